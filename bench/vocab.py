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
