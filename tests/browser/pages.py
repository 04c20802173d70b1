"""Every page of the product, for the page-wide browser checks (accessibility, plain words,
phone layout).

`PAGES` is the one list: a new page is one `Page(...)` line. A page names who looks at it
(`THERAPIST`, `FRONT_DESK`, `SUPERUSER`, or `CLIENT` with no login) and how to reach it: a
path built from the `Tour` (its data is made the first time a page asks for it, so each test
builds only what its page shows), or a `reach` step that gets there through the page before it
(a form posted, a link followed).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.utils import timezone

from clinical.intake import parse_intake
from followup.answers import record_answer
from followup.escalations import acknowledge_escalation, resolve_escalation
from followup.models import CheckIn, CheckInAnswer, CheckInStatus, Escalation
from intake.linkmodels import ConsentText
from intake.models import Channel, Client, HealthRecordAccess
from intake.services import intake_record, visit_complete, visit_schedule
from messaging.links import hash_token
from messaging.models import OutboxMessage
from screening.models import ScreeningFlag, VocabularyTerm
from tests.browser.form_pages import FormTour, client_form_pages
from tests.factories import ClearanceFactory, UserFactory

THERAPIST, FRONT_DESK, SUPERUSER, CLIENT = "therapist", "front_desk", "superuser", "client"
ANSWER_TOKEN = "tour-answer-token-0123456789abcdef"  # noqa: S105 (test data, not a secret)
URGENT_TOKEN = "tour-urgent-token-0123456789abcdef"  # noqa: S105
OPTED_OUT_TOKEN = "tour-opted-out-token-0123456789ab"  # noqa: S105


def _intake_payload(**fields) -> dict:
    payload = {
        "date_of_birth": "1980-05-01",
        "visit_date": timezone.localdate().isoformat(),
        "planned_modality": "swedish",
        "focus_regions": ["neck", "shoulders"],
        "conditions": [],
        "pregnancy": {"pregnant": False, "due_date": None, "weeks": None},
        "medications": [],
        "recent_illness": None,
        "current_pain": {"score": 3, "regions": ["neck"], "character": "dull", "radiating": False},
        "red_flags": [],
        "allergies": [],
        "free_text": "",
    }
    return {**payload, **fields}


class Tour(FormTour):
    """The clinic's data the pages show, made on first use (one transactional test each)."""

    @functools.cached_property
    def users(self) -> dict:
        return {
            THERAPIST: UserFactory(
                username="tess", first_name="Tess", last_name="Ng", groups=["therapist"]
            ),
            FRONT_DESK: UserFactory(
                username="frank", first_name="Frank", last_name="Hale", groups=["front_desk"]
            ),
            SUPERUSER: UserFactory(
                username="olivia", first_name="Olivia", last_name="Grant", is_superuser=True
            ),
        }

    @property
    def therapist(self):
        return self.users[THERAPIST]

    def _client(self, first: str, last: str) -> Client:
        return Client.objects.create(
            first_name=first,
            last_name=last,
            date_of_birth=dt.date(1980, 5, 1),
            email=f"{first.lower()}.{last.lower()}@example.com",
            phone="+447700900123",
            preferred_channel=Channel.EMAIL,
            followup_consent=True,
            followup_consent_at=timezone.now(),
            followup_consent_source="in_person",
        )

    def _visit(self, first: str, last: str, *, modality="swedish", hour=10, **intake):
        """A client with one intake and a visit today, screened on it."""
        client = self._client(first, last)
        intake_record(
            client=client,
            data=parse_intake(_intake_payload(planned_modality=modality, **intake)),
            by=self.therapist,
            ip="127.0.0.1",
            signature_name=client.full_name,
        )
        now = timezone.localtime()
        return visit_schedule(
            client=client,
            therapist=self.therapist,
            scheduled_at=now.replace(hour=hour, minute=0, second=0, microsecond=0),
            planned_modality=modality,
            focus_regions=["neck", "shoulders"],
            by=self.therapist,
        )

    # -- one visit per screening decision ------------------------------------------------

    @functools.cached_property
    def contraindicated(self):
        return self._visit(
            "Maya",
            "Okafor",
            hour=9,
            pregnancy={"pregnant": True, "due_date": None, "weeks": 32},
            red_flags=["numbness"],
        )

    @functools.cached_property
    def clearance(self):
        return self._visit(
            "Daniel",
            "Reyes",
            modality="deep_tissue",
            hour=10,
            medications=["warfarin 5 mg"],
            conditions=[{"code": "herniated_disc", "acute": False, "notes": "L4-L5, 2023"}],
        )

    @functools.cached_property
    def review(self):
        return self._visit(
            "Ines",
            "Duarte",
            hour=11,
            conditions=[{"code": "pacemaker", "acute": False, "notes": ""}],
            free_text="My mother had osteoporosis.",
        )

    @functools.cached_property
    def local(self):
        return self._visit(
            "Grace",
            "Lindqvist",
            hour=12,
            conditions=[{"code": "hip_joint_injury", "acute": False, "notes": "skiing"}],
        )

    @functools.cached_property
    def modify(self):
        return self._visit(
            "Alan",
            "Brook",
            modality="deep_tissue",
            hour=13,
            conditions=[{"code": "osteoporosis", "acute": False, "notes": ""}],
        )

    @functools.cached_property
    def clear(self):
        return self._visit("Sam", "Whitfield", modality="sports", hour=14)

    @functools.cached_property
    def unscreened(self):
        client = self._client("Noor", "Haddad")
        return visit_schedule(
            client=client,
            therapist=self.therapist,
            scheduled_at=timezone.localtime().replace(hour=15, minute=0, second=0),
            planned_modality="swedish",
            focus_regions=[],
            by=self.therapist,
        )

    @functools.cached_property
    def second_intake(self):
        """A second intake for the clearance client: the "what changed" page has content."""
        visit = self.clearance
        ClearanceFactory(client=visit.client, recorded_by=self.therapist)
        return intake_record(
            client=visit.client,
            data=parse_intake(
                _intake_payload(
                    planned_modality="deep_tissue",
                    medications=["warfarin 5 mg", "metformin"],
                    conditions=[{"code": "brittle_bones", "acute": True, "notes": ""}],
                    current_pain={
                        "score": 5,
                        "regions": ["lumbar"],
                        "character": "sharp",
                        "radiating": True,
                    },
                    free_text="Worse since the move.",
                )
            ),
            by=self.therapist,
            ip="127.0.0.1",
            signature_name=visit.client.full_name,
        )

    def with_today(self, path: str) -> str:
        """Book a visit at every screening level today; return `path`."""
        for level in ("contraindicated", "clearance", "review", "local", "modify", "clear"):
            getattr(self, level)
        return self.unscreened and path

    # -- follow-up -----------------------------------------------------------------------

    def _completed(self, first: str, last: str, *, days_ago: int = 2):
        client = self._client(first, last)
        started = timezone.now() - dt.timedelta(days=days_ago)
        intake_record(
            client=client,
            data=parse_intake(_intake_payload(planned_modality="deep_tissue")),
            by=self.therapist,
            ip="127.0.0.1",
            signature_name=client.full_name,
        )
        visit = visit_schedule(
            client=client,
            therapist=self.therapist,
            scheduled_at=started,
            planned_modality="deep_tissue",
            focus_regions=["upper_back"],
            by=self.therapist,
        )
        return visit_complete(
            visit=visit, by=self.therapist, modality="deep_tissue", completed_at=started
        )

    @functools.cached_property
    def escalated(self):
        """A completed visit answered twice: worse at the second check-in (escalated)."""
        visit = self._completed("Priya", "Raman")
        first, second, third = visit.checkins.order_by("offset_seconds")
        for checkin in (first, second):
            _mark_sent(checkin)
        record_answer(checkin=first, score=4, character="stiffness", radiating=False, red_flags=[])
        record_answer(
            checkin=second, score=8, character="sharp", radiating=True, red_flags=["numbness"]
        )
        return visit

    def with_queue(self, path: str) -> str:
        """Put escalations in every state of the queue (open, acknowledged, resolved)."""
        assert self.escalated
        for first, last, level in (("Lee", "Chen", "review"), ("Ola", "Berg", "urgent")):
            visit = self._completed(first, last, days_ago=3)
            checkin = visit.checkins.order_by("offset_seconds").first()
            _mark_sent(checkin)
            answer = {"score": 7, "character": "sharp", "radiating": level == "urgent"}
            record_answer(checkin=checkin, red_flags=[], **answer)
            escalation = Escalation.objects.get(visit=visit)
            acknowledge_escalation(escalation=escalation, by=self.users[FRONT_DESK], note="Called")
            if last == "Berg":
                resolve_escalation(escalation=escalation, by=self.therapist, note="Seen a GP")
        return path

    def with_no_response(self, path: str) -> str:
        """Complete two visits whose check-ins all ran out (one client called already)."""
        visit = self._completed("Jon", "Ives", days_ago=9)
        visit.checkins.update(status=CheckInStatus.EXPIRED, sent_at=timezone.now())
        called = self._completed("Eva", "Stone", days_ago=9)
        called.checkins.update(status=CheckInStatus.EXPIRED, sent_at=timezone.now())
        called.followup_called_at = timezone.now()
        called.save(update_fields=["followup_called_at"])
        return visit and path

    def _open_checkin(self, token: str, first: str, last: str) -> CheckIn:
        visit = self._completed(first, last, days_ago=1)
        checkin = visit.checkins.order_by("offset_seconds").first()
        _mark_sent(checkin, token=token)
        return checkin

    @functools.cached_property
    def answer_link(self) -> str:
        self._open_checkin(ANSWER_TOKEN, "Robin", "Hale")
        return f"/f/{ANSWER_TOKEN}/"

    @functools.cached_property
    def urgent_answer_link(self) -> str:
        self._open_checkin(URGENT_TOKEN, "Kim", "Park")
        return f"/f/{URGENT_TOKEN}/"

    @functools.cached_property
    def opted_out_link(self) -> str:
        checkin = self._open_checkin(OPTED_OUT_TOKEN, "Ada", "Moss")
        client = checkin.visit.client
        client.opted_out_at = timezone.now()
        client.save(update_fields=["opted_out_at"])
        return f"/f/{OPTED_OUT_TOKEN}/opt-out/"

    def with_outbox(self, path: str) -> str:
        """Put an email and a text message in the development outbox."""
        OutboxMessage.objects.create(
            channel="email",
            to="robin@example.com",
            subject="How are you feeling after your visit?",
            body="Please take a minute to tell us:\nhttp://clinic.test/f/abc/\n",
        )
        OutboxMessage.objects.create(
            channel="sms", to="+447700900123", body="Clinic: how are you? http://clinic.test/f/x/"
        )
        return path

    # -- the owner's records -------------------------------------------------------------

    @functools.cached_property
    def read_log(self) -> HealthRecordAccess:
        visit = self.clearance
        return HealthRecordAccess.objects.create(
            user=self.therapist, client=visit.client, what="screening report", path="/"
        )

    @functools.cached_property
    def consent_text(self) -> ConsentText:
        return ConsentText.objects.create(
            version="2027-01", text="I agree to the massage and to follow-up messages."
        )

    @functools.cached_property
    def vocabulary_term(self) -> VocabularyTerm:
        return VocabularyTerm.objects.create(
            phrase="thins my blood",
            rule_code="blood_thinners",
            status=VocabularyTerm.Status.ACTIVE,
            proposed_by=self.therapist,
        )

    @functools.cached_property
    def sign_in_records(self) -> dict:
        """A failed sign-in, its lockout counter and a successful one (django-axes)."""
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        who = {"user_agent": "Firefox", "ip_address": "192.0.2.7", "username": "tess"}
        extra = {"http_accept": "text/html", "path_info": "/accounts/login/"}
        return {
            "attempt": AccessAttempt.objects.create(
                **who, **extra, get_data="", post_data="username=tess", failures_since_start=2
            ),
            "failure": AccessFailureLog.objects.create(**who, **extra),
            "log": AccessLog.objects.create(**who, **extra),
        }

    @functools.cached_property
    def authenticator(self):
        """The therapist's confirmed authenticator app, and their recovery codes."""
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        StaticDevice.objects.create(user=self.therapist, name="Recovery codes")
        return TOTPDevice.objects.create(user=self.therapist, name="Authenticator", confirmed=True)

    @property
    def recovery_codes(self):
        from django_otp.plugins.otp_static.models import StaticDevice

        return self.authenticator and StaticDevice.objects.get(user=self.therapist)


def _mark_sent(checkin: CheckIn, token: str | None = None) -> None:
    now = timezone.now()
    checkin.status = CheckInStatus.SENT
    checkin.sent_at = now
    checkin.attempts = 1
    checkin.due_at = min(checkin.due_at, now)
    checkin.expires_at = now + dt.timedelta(days=7)
    checkin.token_hash = hash_token(token or f"tour-{checkin.pk}-token-0123456789abcdef")
    checkin.save()


def _choose(page, name: str, value: str) -> None:
    """Tap the big button of one answer on the check-in page (its radio is hidden)."""
    radio = page.locator(f'input[name="{name}"][value="{value}"]')
    page.locator(f'label[for="{radio.get_attribute("id")}"]').click()


def _answer_urgently(page) -> None:
    _choose(page, "score", "8")
    _choose(page, "character", "sharp")
    _choose(page, "radiating", "yes")
    page.locator('input[name="red_flags"][value="numbness"]').check()
    _submit(page)


def _answer_emergency(page) -> None:
    _choose(page, "score", "5")
    _choose(page, "character", "dull")
    _choose(page, "radiating", "no")
    page.locator('input[name="red_flags"][value="bowel_bladder_dysfunction"]').check()
    _submit(page)


def _answer_then_reopen(page) -> None:
    link = page.url
    _answer_calmly(page)
    page.goto(link)


def _answer_calmly(page) -> None:
    _choose(page, "score", "2")
    _choose(page, "character", "stiffness")
    _choose(page, "radiating", "no")
    _submit(page)


def _submit(page) -> None:
    with page.expect_navigation():
        page.locator("main button[type=submit]").first.click()


def _submit_empty_clearance(page) -> None:
    with page.expect_navigation():
        page.locator("button:has-text('Record clearance')").click()


def _enrol_authenticator(page) -> None:
    """Set up the authenticator app from its key, as the app reads it from the QR code."""
    import base64
    import time

    from django_otp.oath import TOTP

    secret = page.inner_text("#totp-secret").strip()
    totp = TOTP(base64.b32decode(secret), step=30, t0=0, digits=6)
    totp.time = time.time()
    page.fill("#id_token", f"{totp.token():06d}")
    with page.expect_navigation():
        page.click("main button[type=submit]")


def _submit_empty_intake(page) -> None:
    with page.expect_navigation():
        page.locator("button:has-text('Save health history')").click()


@dataclass(frozen=True)
class Page:
    """One page as a role sees it.

    `path(tour)` builds what the page shows and returns its address; `reach(page)`, when
    given, is then done in the browser to get to the page under test (e.g. post a form).
    `status` is the HTTP status of the page under test. `debug` opens it with DEBUG on (the
    development outbox); `prepare(monkeypatch)` sets up anything else first.
    """

    name: str
    role: str
    path: Callable[[Tour], str]
    status: int = 200
    reach: Callable | None = None
    debug: bool = False
    prepare: Callable | None = None  # prepare(monkeypatch) before the page is opened

    def __str__(self) -> str:
        return self.name


def page_named(name: str) -> Page:
    """Return the page of PAGES called `name`."""
    (page,) = [page for page in PAGES if page.name == name]
    return page


def _admin(model: str) -> Callable[[Tour], str]:
    return lambda tour: f"/admin/{model}/"


PAGES: list[Page] = [
    # -- anyone ----------------------------------------------------------------------------
    Page("login", CLIENT, lambda t: "/accounts/login/"),
    Page("not-found", CLIENT, lambda t: "/no-such-page/", status=404),
    # -- therapist ---------------------------------------------------------------------------
    Page("today", THERAPIST, lambda t: t.with_today("/today/?all=1")),
    Page("client-list", THERAPIST, lambda t: t.with_today("/clients/")),
    Page("client-new", THERAPIST, lambda t: "/clients/new/"),
    Page("client-new-errors", THERAPIST, lambda t: "/clients/new/", reach=_submit),
    Page("client", THERAPIST, lambda t: t.second_intake and f"/clients/{t.clearance.client_id}/"),
    Page(
        "intake-new",
        THERAPIST,
        lambda t: t.second_intake and f"/clients/{t.clearance.client_id}/intakes/new/",
    ),
    Page("intake-first", THERAPIST, lambda t: f"/clients/{t.unscreened.client_id}/intakes/new/"),
    Page(
        "intake-new-errors",
        THERAPIST,
        lambda t: f"/clients/{t.unscreened.client_id}/intakes/new/",
        status=400,
        reach=_submit_empty_intake,
    ),
    Page("intake", THERAPIST, lambda t: f"/intakes/{t.second_intake.pk}/"),
    Page("intake-changes", THERAPIST, lambda t: f"/intakes/{t.second_intake.pk}/changes/"),
    Page("visit-new", THERAPIST, lambda t: f"/clients/{t.clear.client_id}/visits/new/"),
    Page("visit-open", THERAPIST, lambda t: f"/visits/{t.clearance.pk}/"),
    Page("visit-completed", THERAPIST, lambda t: f"/visits/{t.escalated.pk}/"),
    *(
        Page(
            f"report-{level}",
            THERAPIST,
            lambda t, level=level: f"/screening/visit/{getattr(t, level).pk}/",
        )
        for level in ("contraindicated", "clearance", "review", "local", "modify", "clear")
    ),
    Page(
        "clearance-letter",
        THERAPIST,
        lambda t: f"/screening/visit/{t.clearance.pk}/clearance-letter/",
    ),
    Page("record-summary", THERAPIST, lambda t: f"/screening/visit/{t.clearance.pk}/summary/"),
    Page("week", THERAPIST, lambda t: t.with_today("/today/?week=1&all=1")),
    Page("report-not-screened", THERAPIST, lambda t: f"/screening/visit/{t.unscreened.pk}/"),
    Page(
        "report-clearance-errors",
        THERAPIST,
        lambda t: f"/screening/visit/{t.clearance.pk}/",
        status=400,
        reach=_submit_empty_clearance,
    ),
    Page(
        "clearance-new",
        THERAPIST,
        lambda t: t.second_intake and f"/screening/client/{t.clearance.client_id}/clearance/",
    ),
    Page("escalations", THERAPIST, lambda t: t.with_queue("/followup/escalations/")),
    Page(
        "escalations-acknowledged",
        THERAPIST,
        lambda t: t.with_queue("/followup/escalations/?status=acknowledged"),
    ),
    Page(
        "escalations-resolved",
        THERAPIST,
        lambda t: t.with_queue("/followup/escalations/?status=resolved"),
    ),
    Page("no-response", THERAPIST, lambda t: t.with_no_response("/followup/no-response/")),
    Page("visit-form-review", THERAPIST, lambda t: f"/visits/{t.form_for_review.pk}/"),
    Page(
        "client-form-review",
        THERAPIST,
        lambda t: f"/clients/{t.form_for_review.client_id}/",
    ),
    Page("pain-chart", THERAPIST, lambda t: f"/followup/visits/{t.escalated.pk}/pain-chart/"),
    Page("outbox", THERAPIST, lambda t: t.with_outbox("/followup/outbox/"), debug=True),
    Page("admin", THERAPIST, lambda t: "/admin/"),
    Page("catalogue", THERAPIST, lambda t: "/screening/catalogue/"),
    Page("two-factor-setup", THERAPIST, lambda t: "/accounts/two-factor/setup/"),
    Page(
        "two-factor-recovery-codes",
        THERAPIST,
        lambda t: "/accounts/two-factor/setup/",
        reach=_enrol_authenticator,
    ),
    Page("two-factor-new-codes", THERAPIST, lambda t: "/accounts/two-factor/recovery-codes/"),
    Page("two-factor-verify", THERAPIST, lambda t: t.authenticator and "/accounts/two-factor/"),
    # -- front desk: the staff pages it shares, then the admin -------------------------------
    Page("fd-escalations", FRONT_DESK, lambda t: t.with_queue("/followup/escalations/")),
    Page("fd-no-response", FRONT_DESK, lambda t: t.with_no_response("/followup/no-response/")),
    Page("fd-refused", FRONT_DESK, lambda t: "/clients/", status=403),
    Page("fd-admin", FRONT_DESK, lambda t: "/admin/"),
    Page("fd-admin-clients", FRONT_DESK, lambda t: t.with_today("/admin/intake/client/")),
    Page(
        "fd-admin-client",
        FRONT_DESK,
        lambda t: f"/admin/intake/client/{t.clear.client_id}/change/",
    ),
    Page("fd-admin-client-add", FRONT_DESK, _admin("intake/client/add")),
    Page(
        "fd-admin-client-history",
        FRONT_DESK,
        lambda t: f"/admin/intake/client/{t.clear.client_id}/history/",
    ),
    Page(
        "fd-admin-consent",
        FRONT_DESK,
        lambda t: f"/admin/intake/client/{t.clear.client_id}/consent/",
    ),
    Page("fd-admin-password", FRONT_DESK, lambda t: "/admin/password_change/"),
    Page("fd-admin-password-done", FRONT_DESK, lambda t: "/admin/password_change/done/"),
    Page("fd-admin-visits", FRONT_DESK, lambda t: t.with_today("/admin/intake/visit/")),
    Page(
        "fd-admin-visits-form-missing",
        FRONT_DESK,
        lambda t: (
            t.form_for_review
            and t.form_link
            and "/admin/intake/visit/?health_form=tomorrow_missing"
        ),
    ),
    Page("fd-admin-visit", FRONT_DESK, lambda t: f"/admin/intake/visit/{t.clear.pk}/change/"),
    Page("fd-admin-visit-add", FRONT_DESK, _admin("intake/visit/add")),
    Page("fd-admin-checkins", FRONT_DESK, lambda t: t.escalated and "/admin/followup/checkin/"),
    Page(
        "fd-admin-checkin",
        FRONT_DESK,
        lambda t: f"/admin/followup/checkin/{t.escalated.checkins.first().pk}/change/",
    ),
    Page(
        "fd-admin-escalations",
        FRONT_DESK,
        lambda t: t.with_queue("/admin/followup/escalation/"),
    ),
    Page(
        "fd-admin-escalation",
        FRONT_DESK,
        lambda t: f"/admin/followup/escalation/{t.escalated.escalations.first().pk}/change/",
    ),
    # -- superuser: where the admin differs --------------------------------------------------
    Page("su-admin", SUPERUSER, lambda t: "/admin/"),
    Page("su-admin-intakes", SUPERUSER, lambda t: t.second_intake and "/admin/intake/intake/"),
    Page(
        "su-admin-intake",
        SUPERUSER,
        lambda t: f"/admin/intake/intake/{t.second_intake.pk}/change/",
    ),
    Page("su-admin-screenings", SUPERUSER, lambda t: t.with_today("/admin/screening/")),
    Page(
        "su-admin-escalation",
        SUPERUSER,
        lambda t: f"/admin/followup/escalation/{t.escalated.escalations.first().pk}/change/",
    ),
    Page("su-admin-consent-texts", SUPERUSER, _admin("intake/consenttext")),
    Page("su-admin-consent-text-add", SUPERUSER, _admin("intake/consenttext/add")),
    Page(
        "su-admin-consent-text",
        SUPERUSER,
        lambda t: f"/admin/intake/consenttext/{t.consent_text.pk}/change/",
    ),
    Page("su-admin-users", SUPERUSER, _admin("auth/user")),
    Page("su-admin-user", SUPERUSER, lambda t: f"/admin/auth/user/{t.therapist.pk}/change/"),
    Page("su-admin-groups", SUPERUSER, _admin("auth/group")),
    Page(
        "su-admin-group",
        SUPERUSER,
        lambda t: f"/admin/auth/group/{Group.objects.get(name='therapist').pk}/change/",
    ),
    Page(
        "su-admin-screening-list",
        SUPERUSER,
        lambda t: t.with_today("/admin/screening/screening/"),
    ),
    Page(
        "su-admin-screening",
        SUPERUSER,
        lambda t: f"/admin/screening/screening/{t.clearance.current_screening().pk}/change/",
    ),
    Page("su-admin-flags", SUPERUSER, lambda t: t.with_today("/admin/screening/screeningflag/")),
    Page(
        "su-admin-flag",
        SUPERUSER,
        lambda t: (
            "/admin/screening/screeningflag/"
            f"{ScreeningFlag.objects.filter(screening__visit=t.clearance).first().pk}/change/"
        ),
    ),
    Page(
        "su-admin-clearances",
        SUPERUSER,
        lambda t: t.second_intake and "/admin/screening/clearance/",
    ),
    Page(
        "su-admin-clearance",
        SUPERUSER,
        lambda t: (
            t.second_intake
            and f"/admin/screening/clearance/{t.clearance.client.clearances.get().pk}/change/"
        ),
    ),
    Page(
        "su-admin-vocabulary",
        SUPERUSER,
        lambda t: t.vocabulary_term and "/admin/screening/vocabularyterm/",
    ),
    Page(
        "su-admin-vocabulary-term",
        SUPERUSER,
        lambda t: f"/admin/screening/vocabularyterm/{t.vocabulary_term.pk}/change/",
    ),
    Page("su-admin-answers", SUPERUSER, lambda t: t.escalated and "/admin/followup/checkinanswer/"),
    Page(
        "su-admin-answer",
        SUPERUSER,
        lambda t: (
            "/admin/followup/checkinanswer/"
            f"{CheckInAnswer.objects.filter(checkin__visit=t.escalated).first().pk}/change/"
        ),
    ),
    Page(
        "su-admin-read-log", SUPERUSER, lambda t: t.read_log and "/admin/intake/healthrecordaccess/"
    ),
    Page(
        "su-admin-read-log-entry",
        SUPERUSER,
        lambda t: f"/admin/intake/healthrecordaccess/{t.read_log.pk}/change/",
    ),
    *(
        page
        for model, record in (
            ("accessattempt", "attempt"),
            ("accessfailurelog", "failure"),
            ("accesslog", "log"),
        )
        for page in (
            Page(
                f"su-admin-{model}s",
                SUPERUSER,
                lambda t, model=model: t.sign_in_records and f"/admin/axes/{model}/",
            ),
            Page(
                f"su-admin-{model}",
                SUPERUSER,
                lambda t, model=model, record=record: (
                    f"/admin/axes/{model}/{t.sign_in_records[record].pk}/change/"
                ),
            ),
        )
    ),
    Page(
        "su-admin-authenticators",
        SUPERUSER,
        lambda t: t.authenticator and "/admin/otp_totp/totpdevice/",
    ),
    Page(
        "su-admin-authenticator",
        SUPERUSER,
        lambda t: f"/admin/otp_totp/totpdevice/{t.authenticator.pk}/change/",
    ),
    Page(
        "su-admin-authenticator-config",
        SUPERUSER,
        lambda t: f"/admin/otp_totp/totpdevice/{t.authenticator.pk}/config/",
    ),
    Page(
        "su-admin-recovery-code-sets",
        SUPERUSER,
        lambda t: t.authenticator and "/admin/otp_static/staticdevice/",
    ),
    Page(
        "su-admin-recovery-code-set",
        SUPERUSER,
        lambda t: f"/admin/otp_static/staticdevice/{t.recovery_codes.pk}/change/",
    ),
    Page(
        "su-admin-outbox",
        SUPERUSER,
        lambda t: t.with_outbox("/admin/messaging/outboxmessage/"),
        debug=True,
    ),
    Page(
        "su-admin-outbox-message",
        SUPERUSER,
        lambda t: (
            t.with_outbox("/admin/messaging/outboxmessage/")
            and f"/admin/messaging/outboxmessage/{OutboxMessage.objects.first().pk}/change/"
        ),
        debug=True,
    ),
    # -- the client, from the links in their messages -----------------------------------------
    Page("admin-login", CLIENT, lambda t: "/admin/login/"),
    Page("checkin", CLIENT, lambda t: t.answer_link),
    Page("checkin-errors", CLIENT, lambda t: t.answer_link, reach=_submit),
    Page("checkin-done", CLIENT, lambda t: t.answer_link, reach=_answer_calmly),
    Page("checkin-done-urgent", CLIENT, lambda t: t.urgent_answer_link, reach=_answer_urgently),
    Page("checkin-done-emergency", CLIENT, lambda t: t.urgent_answer_link, reach=_answer_emergency),
    Page("checkin-used", CLIENT, lambda t: t.answer_link, reach=_answer_then_reopen),
    Page("opt-out", CLIENT, lambda t: f"{t.answer_link}opt-out/"),
    Page("opt-out-done", CLIENT, lambda t: f"{t.answer_link}opt-out/", reach=_submit),
    Page("opt-out-already", CLIENT, lambda t: t.opted_out_link),
    Page("link-unusable", CLIENT, lambda t: "/f/no-such-token-0123456789abcdef/", status=404),
    # -- the client's health form, from the link in their message ----------------------------
    *client_form_pages(Page, CLIENT),
    Page(
        "rate-limited",
        CLIENT,
        lambda t: t.answer_link,
        status=429,
        prepare=lambda monkeypatch: monkeypatch.setattr("followup.views.RATE_LIMIT_REQUESTS", 0),
    ),
]
