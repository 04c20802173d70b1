"""Everyday words for generated intakes: what clients write that is not in the catalogue.

The clinical vocabulary (modalities, regions, red flags, condition codes, medication and
allergy keywords) comes from the shipped catalogue at run time, so the generated mix follows
the catalogue as it changes. These lists only make the intakes look like real ones: benign
medications and allergies, free-text sentences of realistic length, some with negated
mentions ("no history of thrombosis") that the engine must read and not flag.
"""

from __future__ import annotations

BENIGN_MEDICATIONS = [
    "ibuprofen 400 mg as needed",
    "paracetamol 1 g",
    "levothyroxine 50 mcg",
    "vitamin D 1000 IU",
    "omeprazole 20 mg",
    "cetirizine 10 mg",
    "sertraline 50 mg",
    "metformin 500 mg",
    "atorvastatin 20 mg",
    "combined contraceptive pill",
    "salbutamol inhaler",
    "magnesium supplement",
]

BENIGN_ALLERGIES = [
    "penicillin",
    "cat hair",
    "pollen",
    "shellfish",
    "dust mites",
    "plasters",
    "strawberries",
]

SENTENCES = [
    "I sit at a desk for about nine hours a day and my shoulders get very tight by Friday.",
    "I run three times a week, usually 5 to 10 km, and I am training for a half marathon.",
    "My neck is stiff in the mornings, it gets better after a hot shower.",
    "I carry my toddler on my left hip most of the day.",
    "I had a massage here last year and it really helped with my sleep.",
    "Please avoid strong scents if possible, they give me a headache.",
    "I prefer medium pressure, nothing too deep on the calves.",
    "I have been gardening a lot this month and my lower back feels tired.",
    "I work night shifts as a nurse and I am on my feet all night.",
    "I cycle to work every day, about 40 minutes each way.",
    "My physiotherapist suggested massage for general tension.",
    "I sleep on my side and wake up with a sore shoulder sometimes.",
    "I would like to relax, it has been a stressful few weeks at work.",
    "I swim twice a week and do yoga on Sundays.",
    "I get tension headaches when I spend long hours at the computer.",
    "No other problems that I know of, I feel healthy overall.",
]

NEGATED_SENTENCES = [
    "No history of thrombosis in my family as far as I know.",
    "I have never had a fracture.",
    "My GP said there is no sign of a hernia.",
    "Not diabetic, blood pressure was normal at my last check.",
    "I was tested and it was negative for infection.",
]

# Sentences with health content as clients write it: lay terms, brand names, misspellings,
# family and past history, denials, vaccines (the "realistic free text" row, 1c).
HEALTH_SENTENCES = [
    "My mother had osteoporosis, so I prefer gentle pressure.",
    "No history of blood clots in my family.",
    "I broke my wrist in 2015 but it healed fine.",
    "I take Eliquis since my DVT last year.",
    "Sciatica down my left leg some days.",
    "I had the flu jab last week.",
    "I've got a bad back from lifting at work.",
    "Pins and needles in my fingers in the mornings.",
    "I have epilepsy, well controlled with medication.",
    "Dad had a heart attack at 60.",
    "I'm on aspirin 75mg every day.",
    "Slipped disc at L5 a few years ago, still a bit stiff.",
    "I used to have eczema as a child.",
    "My GP says my blood pressure is a bit high.",
    "I had covid in 2021 and recovered fully.",
    "Not diabetic, no heart problems.",
    "Some hypertention, controlled with tablets.",
    "I had knee surgery in 2019.",
]

# Entries the screener cannot interpret: they make an intake "review" (something to resolve).
UNRECOGNISED_CONDITIONS = ["epilepsy", "kidney disease", "gout", "zorblax syndrome", "migraines"]
UNRECOGNISED_MEDICATIONS = ["Zorblax 10 mg", "quinzapril 5 mg"]

# Notes a therapist writes next to a condition entry.
CONDITION_NOTES = [
    "diagnosed five years ago, under control",
    "seen by GP last month",
    "flares up in winter",
    "L4-L5, toward spinal canal",
    "on the left side",
    "mild, no treatment at the moment",
    "",
    "",
]

ILLNESSES = ["influenza", "a cold", "covid", "stomach bug", "sinus infection"]

FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hugo", "Isla", "Jon"]
LAST_NAMES = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fischer", "Green", "Hughes"]
