"""Two transactions at once on PostgreSQL: the second reaches a lock the first holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection


def second_waits_for_first(
    first: Callable[[Callable[[], None]], None], second: Callable[[], None], *, hold: float = 0.5
) -> None:
    """Run `first(held)` and `second()` in two threads, each on its own connection.

    `first` calls `held()` once it holds its lock: `second` then starts, and `first` goes on
    `hold` seconds later, so that `second` has reached the lock and waits on it.
    """
    holding = threading.Event()

    def held() -> None:
        holding.set()
        time.sleep(hold)  # the second one reaches the lock and waits on it

    def on_own_connection(run: Callable[[], None]) -> None:
        try:
            run()
        finally:
            connection.close()  # each thread has its own connection

    def after_hold() -> None:
        holding.wait(5)
        second()

    threads = [
        threading.Thread(target=on_own_connection, args=(lambda: first(held),)),
        threading.Thread(target=on_own_connection, args=(after_hold,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
