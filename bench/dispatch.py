"""Row 4: dispatch of 20,000 due check-ins by the tick and two Celery worker processes.

The bench process plays Celery beat: it calls `messaging.dispatch.tick()` back to back (beat
would call it once a minute; here we measure what the pipeline can do, not the schedule).
The tick claims rows in batches of 100 and enqueues one `send_links` task per batch on
Redis; one `celery -A clinic worker --concurrency 2` (two worker processes) sends them
through a counting email backend. The figure is check-ins per second from the first claim to
the last `sent_at`; the floor is the same rows set to sent by one UPDATE. Every message is counted: duplicates
(messages beyond one per check-in) and rows left behind are reported, and must be zero.

Each message is recorded (its row marked sent) before the next is sent, so a worker killed
mid-batch leaves at most one message out and unrecorded: the third row is the longest such
window the workers saw (from the transport accepting a message to its row's update
committing), read from their log.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import re
import time

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from bench import seed
from bench.infra import BIN, REDIS_URL, Infra, bench_env
from bench.sinks import read_tokens
from followup.models import CheckIn, CheckInStatus
from messaging.links import hash_token

TARGET_PER_SECOND = 1_000
SEND_TASK = "messaging.tasks.send_links"
# Bound on the dispatch, so `make bench` stays within its 10 minutes on a slow machine. Rows
# still queued at the deadline are reported as unfinished (not as lost).
TIMEOUT = float(os.environ.get("BENCH_DISPATCH_TIMEOUT", "180"))


def _bulk_update_floor(first: int, last: int) -> float:
    """Time one UPDATE of every row to sent, then put them back (the put-back is not timed)."""
    table = CheckIn._meta.db_table
    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute(
            f"UPDATE {table} SET status = 'sent', sent_at = CURRENT_TIMESTAMP, attempts = 1 "
            "WHERE id BETWEEN %s AND %s",
            [first, last],
        )
        elapsed = time.perf_counter() - t0
        cursor.execute(
            f"UPDATE {table} SET status = 'scheduled', sent_at = NULL, attempts = 0 "
            "WHERE id BETWEEN %s AND %s",
            [first, last],
        )
    return elapsed


def _wait_for_workers(infra: Infra, proc, timeout: float = 60) -> None:
    from clinic.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited:\n" + infra.log_tail("celery"))
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError("celery worker did not answer a ping:\n" + infra.log_tail("celery"))


def measure(infra: Infra, cast, clients, count: int = 20_000, timeout: float = TIMEOUT) -> dict:
    """Seed `count` due check-ins, measure the floor, then dispatch them for real."""
    first, last = seed.due_checkins(cast, clients, count)
    floor_seconds = _bulk_update_floor(first, last)

    sink = infra.tmp / "sink"
    sink.mkdir()
    env = bench_env(
        EMAIL_BACKEND="bench.sinks.CountingEmailBackend",
        BENCH_SINK_DIR=str(sink),
        LOG_LEVEL="INFO",  # each batch's summary line, with its longest unrecorded window
    )
    worker = infra.start(
        "celery",
        [
            str(BIN / "celery"),
            "-A",
            "clinic",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",  # Celery sets the root logger's level: the batches' summary lines
            "--hostname",
            "bench@%h",
        ],
        env,
    )
    _wait_for_workers(infra, worker)
    started = timezone.now()
    ticks, timed_out = drive(first, last, count, timeout=timeout)
    infra.stop(worker)  # a warm shutdown: unacknowledged tasks go back to the queue
    result = outcome(first, last, sink_dir=str(sink), started=started, timed_out=timed_out)
    if timed_out:
        # Not finished is not lost: every row still in flight must have its task queued.
        pending = set(
            CheckIn.objects.filter(id__range=(first, last))
            .exclude(status__in=[CheckInStatus.SENT, CheckInStatus.FAILED])
            .values_list("id", flat=True)
        )
        result["left_behind"] = len(pending - queued_checkin_ids())
    result.update(
        ticks=ticks,
        window_ms=longest_window_ms(infra.tmp / "celery.log"),
        floor_seconds=floor_seconds,
        floor_per_s=count / floor_seconds,
        timeout=timeout,
    )
    return result


_WINDOW = re.compile(r"longest unrecorded window ([0-9.]+) ms")


def longest_window_ms(log_path) -> float:
    """Return the longest unrecorded window any batch logged (ms); NaN if none did."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return float("nan")
    windows = [float(ms) for ms in _WINDOW.findall(text)]
    return max(windows) if windows else float("nan")


def queued_checkin_ids() -> set[int]:
    """Return the check-in ids of every send_links task waiting in the bench Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    raw = []
    # kombu keeps one list per priority step ("celery", "celery\x06\x163", ...) and the
    # messages a worker holds but has not acknowledged in the "unacked" hash.
    for key in client.scan_iter(match="celery*"):
        if client.type(key) == b"list":
            raw.extend(client.lrange(key, 0, -1))
    raw.extend(client.hvals("unacked"))
    client.close()
    ids = set()
    for message in raw:
        try:
            payload = json.loads(message)
            if isinstance(payload, list):  # unacked entries are [message, exchange, key]
                payload = payload[0]
            headers = payload["headers"]
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        if headers.get("task") == SEND_TASK:
            ids.update(_task_ids(payload))
    return ids


def _task_ids(payload: dict) -> list[int]:
    """Return the check-in ids a send task carries (its body; argsrepr is cut at 1 kB)."""
    try:
        body = payload["body"]
        if payload.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        (_kind, ids, *_), _kwargs, _embed = json.loads(body)
        return [int(pk) for pk in ids]
    except (ValueError, KeyError, TypeError):
        return [int(pk) for pk in re.findall(r"\d+", payload["headers"].get("argsrepr", ""))]


def drive(first: int, last: int, count: int, *, timeout: float) -> tuple[int, bool]:
    """Play beat: tick until every row is claimed, then wait until none is pending.

    Return (ticks, timed_out). With Celery eager (the smoke test) the sends run in-process.
    """
    from messaging import dispatch

    ours = CheckIn.objects.filter(id__range=(first, last))
    deadline = time.monotonic() + timeout
    ticks = claimed = 0
    while time.monotonic() < deadline:
        just_claimed = 0
        if claimed < count:
            just_claimed = dispatch.tick().claimed
            ticks += 1
            claimed += just_claimed
        if claimed >= count:
            done = CheckInStatus.SENT, CheckInStatus.FAILED
            if not ours.exclude(status__in=done).exists():
                return ticks, False
            time.sleep(0.5)
        elif not just_claimed:
            time.sleep(0.2)
    return ticks, True


def outcome(first: int, last: int, *, sink_dir: str, started, timed_out: bool) -> dict:
    """Count what happened to rows first..last and to every message the workers sent."""
    ours = CheckIn.objects.filter(id__range=(first, last))
    count = last - first + 1
    statuses = dict(ours.values_list("status").annotate(n=Count("id")))
    last_sent = ours.aggregate(last=Max("sent_at"))["last"]
    sent = statuses.get(CheckInStatus.SENT, 0)
    seconds = (last_sent - started).total_seconds() if last_sent else float("nan")
    tokens = read_tokens(sink_dir)
    link_tokens = [t for t in tokens if t != "-"]
    sent_hashes = set(ours.filter(status=CheckInStatus.SENT).values_list("token_hash", flat=True))
    # A check-in sent twice carries the same link both times: count messages per link.
    per_link = collections.Counter(link_tokens)
    matched = sum(1 for t in per_link if hash_token(t) in sent_hashes)
    unfinished = count - sent - statuses.get(CheckInStatus.FAILED, 0)
    return {
        "checkins": count,
        "sent": sent,
        "statuses": statuses,
        "messages": len(link_tokens),
        "other_messages": len(tokens) - len(link_tokens),
        # Every message beyond one per sent row is a duplicate (a second copy of a link, or
        # a link no sent row holds).
        "duplicates": len(link_tokens) - matched,
        # Rows neither sent nor failed at the end; on a timeout measure() counts only those
        # in flight without a queued task (unfinished is not lost).
        "left_behind": None if timed_out else unfinished,
        "unfinished_at_timeout": unfinished if timed_out else 0,
        "retried_rows": ours.filter(attempts__gt=1).count(),
        "seconds": seconds,
        "per_s": sent / seconds if seconds and seconds > 0 else 0.0,
        "timed_out": timed_out,
    }


def rows(result: dict) -> list[dict]:
    clean = result["duplicates"] == 0 and result["left_behind"] == 0
    ok = result["per_s"] >= TARGET_PER_SECOND and clean
    left = str(result["left_behind"])
    if result["timed_out"]:
        left += f" ({result['unfinished_at_timeout']:,} still queued at {result['timeout']:.0f} s)"
    return [
        {
            "row": f"4  Dispatch {result['checkins']:,} due check-ins (tick + 2 workers)",
            "figure": f"{result['per_s']:,.0f}/s ({result['sent']:,} in {result['seconds']:.1f} s)",
            "floor": f"{result['floor_per_s']:,.0f}/s (1 UPDATE)",
            "ratio": f"{result['per_s'] / result['floor_per_s']:.1%}",
            "target": f">= {TARGET_PER_SECOND:,}/s",
            "ok": ok,
        },
        {
            "row": "4  Dispatch: longest unrecorded window",
            "figure": f"{result.get('window_ms', float('nan')):.1f} ms",
            "floor": "",
            "ratio": "",
            "target": "one message",
            "ok": True,
        },
        {
            "row": "4  Dispatch: duplicates / left behind",
            "figure": f"{result['duplicates']} / {left}",
            "floor": "",
            "ratio": "",
            "target": "0 / 0",
            "ok": clean,
        },
    ]
