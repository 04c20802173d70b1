"""`make bench`: measure every hot path against a floor measured in the same run.

This machine is shared and noisy, so every figure is a ratio to a floor measured in the same
run, and nothing here is a timed unit test. Prints one table and writes bench/results.json.

Rows: 1 screening engine (in-process, one core); 2 intake form POST and 3 check-in answer page
over HTTP (gunicorn, 2 workers, PostgreSQL), each against the plain floor and a fair floor
(the same statements in raw SQL, bench/fair.py); 4 dispatch of due check-ins (tick + Celery worker,
Redis); 5 staff pages with 10,000 clients (queries and p95 render time).

Everything runs on 127.0.0.1 in a database it creates and drops (clinic_bench) and a Redis
database of its own (/14), and stops every process it starts, also on Ctrl-C.

Environment (all optional): BENCH_SECONDS (per HTTP row and side, default 30), BENCH_USERS
(concurrent HTTP users, 4), BENCH_ROUNDS (floor/figure alternations, 2), BENCH_CLIENTS
(10000), BENCH_DISPATCH (20000), BENCH_DISPATCH_TIMEOUT (180), BENCH_BUDGET (seconds for the
whole run, 540; the dispatch gets what is left), BENCH_ONLY (comma list of engine, intake,
answer, pages, dispatch), BENCH_PG_URL, BENCH_DB_NAME, BENCH_REDIS_URL, BENCH_STRICT=1 (exit 1
when a target is missed; by default only a broken harness exits non-zero).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python bench/run.py`), sys.path[0] is bench/: import the project instead,
# so that bench modules are never shadowed or shadowing as top-level names.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import infra as infra_mod  # noqa: E402
from bench import table  # noqa: E402

SECTIONS = ("engine", "intake", "answer", "pages", "dispatch")


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        raise SystemExit(f"bench: {name}={value!r} is not a whole number") from None


def settle_database() -> None:
    """VACUUM and ANALYZE the bench database after a bulk load, as autovacuum would do some
    time after it: fresh planner statistics, and no autovacuum of the rows just seeded
    taking the CPU from whichever side of a row is being measured at that moment."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


class Bench:
    def __init__(self) -> None:
        self.seconds = _int_env("BENCH_SECONDS", 30)
        self.users = _int_env("BENCH_USERS", 4)
        self.rounds = max(1, _int_env("BENCH_ROUNDS", 2))
        self.clients = _int_env("BENCH_CLIENTS", 10_000)
        self.dispatch_count = _int_env("BENCH_DISPATCH", 20_000)
        # Seconds for the whole run (make bench must finish within 10 minutes, venv included).
        self.budget = _int_env("BENCH_BUDGET", 540)
        only = os.environ.get("BENCH_ONLY", "").strip()
        self.only = [s.strip() for s in only.split(",") if s.strip()] or list(SECTIONS)
        unknown = set(self.only) - set(SECTIONS)
        if unknown:
            raise SystemExit(f"bench: BENCH_ONLY: unknown {sorted(unknown)} (known: {SECTIONS})")
        self.rows: list[dict] = []
        self.details: dict = {}
        self.notes: list[str] = []
        self.infra = infra_mod.Infra()
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def section(self, name: str, label: str, fn) -> None:
        if name not in self.only:
            return
        self.log(f"{label} ...")
        try:
            fn()
        except Exception as exc:
            traceback.print_exc()
            self.rows.append({"row": label, "error": f"{type(exc).__name__}: {exc}"[:500]})
        self.log(f"{label}: done")

    # ---- row 1 ---------------------------------------------------------------------------

    def engine(self) -> None:
        from bench import engine

        result = engine.measure()
        self.details["engine"] = result
        self.rows.extend(engine.rows(result))

    # ---- database-backed rows ----------------------------------------------------------

    def setup_django(self) -> None:
        os.environ.update(infra_mod.bench_env())
        self.infra.setup_database()
        import django

        django.setup()
        from django.conf import settings
        from django.urls import clear_url_caches

        # As the bench's server (bench/wsgi.py): the site, its floors and the fair floors.
        settings.ROOT_URLCONF = "bench.urls"
        clear_url_caches()
        from django.core.management import call_command

        self.log(f"migrating {infra_mod.DB_NAME} ...")
        call_command("migrate", verbosity=0, interactive=False)
        # The site on the bench's URLconf: the floor views and the fair floors (bench/urls.py).
        self.app = "bench.wsgi:application"
        from bench import seed

        self.log(f"seeding {self.clients:,} clients with intakes, visits, screenings ...")
        self.cast = seed.staff()
        self.clinic = seed.clinic(self.cast, count=self.clients)
        settle_database()

    def http_rows(self) -> None:
        from bench import seed, web
        from bench.intakes import generate

        want = [s for s in ("intake", "answer") if s in self.only]
        if not want:
            return
        # Prepare before the server starts, so seeding does not compete with the load.
        answer_tokens, fair_tokens = [], []
        if "answer" in want:
            budget = min(40_000, 200 * (self.seconds + 5 * self.rounds))
            answer_tokens = seed.sent_checkins(self.cast, self.clinic["clients"], budget)
            # The fair floor answers check-ins of its own, and faster.
            fair_tokens = seed.sent_checkins(self.cast, self.clinic["clients"], 2 * budget)
        intake_clients = self.clinic["clients"][-200:]
        if "intake" in want:
            # Each intake re-screens its client's scheduled visit, as in a clinic.
            seed.scheduled_visits(self.cast, intake_clients)
        intakes = generate(2_000, seed=7)
        # The rows just seeded would start autovacuum in the middle of a measurement.
        settle_database()
        # Behind a proxy on 127.0.0.1: each simulated client is counted under its own
        # X-Forwarded-For address by the token pages' rate limit.
        env = infra_mod.bench_env(BEHIND_PROXY="1", TRUSTED_PROXIES="127.0.0.1/32")
        base = self.infra.start_gunicorn(env, app=self.app, workers=2)
        self.log(f"gunicorn (2 workers) on {base}")
        try:
            intake = answer = None
            if "intake" in want:
                self.log(f"2 intake form POST vs floor, {self.seconds} s each ...")
                try:
                    intake = web.intake_row(
                        base,
                        clients=intake_clients,
                        intakes=intakes,
                        seconds=self.seconds,
                        users=self.users,
                        rounds=self.rounds,
                    )
                    self.details["intake"] = intake
                except Exception as exc:
                    traceback.print_exc()
                    self.rows.append({"row": "2  Intake form POST", "error": repr(exc)[:500]})
            if "answer" in want:
                self.log(f"3 check-in answer GET+POST vs floor, {self.seconds} s each ...")
                try:
                    answer = web.answer_row(
                        base,
                        tokens=answer_tokens,
                        fair_tokens=fair_tokens,
                        seconds=self.seconds,
                        users=self.users,
                        rounds=self.rounds,
                    )
                    self.details["answer"] = answer
                except Exception as exc:
                    traceback.print_exc()
                    self.rows.append({"row": "3  Check-in page", "error": repr(exc)[:500]})
            self.rows.extend(web.rows(intake, answer))
            for name, result in (("intake", intake), ("answer", answer)):
                for side in ("floor", "fair", "figure"):
                    if result and result[side]["errors"]:
                        self.notes.append(
                            f"{name} {side}: {result[side]['errors']} failed request(s), e.g. "
                            f"{result[side]['error_samples'][:1]}"
                        )
        finally:
            self.infra.stop(self.infra.gunicorn)

    def pages(self) -> None:
        from bench import pages

        result = pages.measure(self.cast, self.clinic["regular"].pk)
        result["clients"] = self.clients
        self.details["pages"] = result
        self.rows.extend(pages.rows(result))

    def dispatch(self) -> None:
        from bench import dispatch

        infra_mod.flush_redis()  # alerts queued by row 3 are not part of this row
        # Keep the whole run inside its budget: the dispatch gets what is left (at least 60 s),
        # and never more than BENCH_DISPATCH_TIMEOUT.
        left = self.budget - (time.monotonic() - self.started) - 30
        timeout = min(dispatch.TIMEOUT, max(60.0, left))
        result = dispatch.measure(
            self.infra,
            self.cast,
            self.clinic["clients"],
            count=self.dispatch_count,
            timeout=timeout,
        )
        self.details["dispatch"] = result
        self.rows.extend(dispatch.rows(result))

    # ---- the run -------------------------------------------------------------------------

    def run(self) -> int:
        self.section("engine", "1  Screening engine", self.engine)
        needs_db = [s for s in self.only if s != "engine"]
        if needs_db:
            try:
                self.log("creating the bench database ...")
                self.setup_django()
            except Exception as exc:
                traceback.print_exc()
                self.rows.append(
                    {"row": "setup (database, migrate, seed)", "error": repr(exc)[:500]}
                )
                return self.report()
            if "intake" in self.only or "answer" in self.only:
                self.section(
                    "intake" if "intake" in self.only else "answer", "2-3 HTTP rows", self.http_rows
                )
            self.section("pages", "5  Staff pages", self.pages)
            self.section("dispatch", "4  Dispatch", self.dispatch)
        return self.report()

    def report(self) -> int:
        order = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4}
        self.rows.sort(key=lambda r: order.get(r["row"][:1], 9))
        when = dt.datetime.now().astimezone()
        header = (
            f"make bench  {when:%Y-%m-%d %H:%M %Z}  nproc={os.cpu_count()}  "
            f"Python {platform.python_version()}  BENCH_SECONDS={self.seconds} "
            f"users={self.users} rounds={self.rounds}  total {time.monotonic() - self.started:.0f} s"
        )
        print()
        print(header)
        print(table.render(self.rows))
        for note in self.notes:
            print(f"note: {note}")
        if "engine" in self.details:
            print(f"engine decision mix: {self.details['engine']['decision_mix']}")
            print(f"free-text decision mix: {self.details['engine']['free_text']['decision_mix']}")
        if "dispatch" in self.details:
            d = self.details["dispatch"]
            print(
                f"dispatch: {d['sent']:,} sent of {d['checkins']:,}, {d['messages']:,} messages, "
                f"duplicates {d['duplicates']}, left behind {d['left_behind']}, "
                f"rows retried {d['retried_rows']}, ticks {d['ticks']}, statuses {d['statuses']}"
            )
        results = {
            "date": when.isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "settings": {
                "seconds": self.seconds,
                "users": self.users,
                "rounds": self.rounds,
                "clients": self.clients,
                "dispatch": self.dispatch_count,
                "only": self.only,
            },
            "rows": self.rows,
            "details": self.details,
            "notes": self.notes,
        }
        path = ROOT / "bench" / "results.json"
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
        errors = any(r.get("error") for r in self.rows)
        missed = any(r.get("ok") is False for r in self.rows)
        if errors:
            return 1
        return 1 if missed and os.environ.get("BENCH_STRICT") == "1" else 0

    def close(self) -> None:
        self.infra.close()
        shutil.rmtree(self.infra.tmp, ignore_errors=True)


def main() -> int:
    bench = Bench()
    # A TERM (or Ctrl-C) still runs the clean-up below: processes stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return bench.run()
    finally:
        bench.log("cleaning up (processes, bench database, bench Redis database) ...")
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
