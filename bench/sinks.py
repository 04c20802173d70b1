"""A counting email backend for the dispatch benchmark (EMAIL_BACKEND=bench.sinks...).

Like Django's locmem backend it never touches the network, but it appends one line per
message to a file per worker process, so the benchmark (another process) can count every
message the workers sent and find duplicates. The line holds the link token only.
"""

from __future__ import annotations

import os
import re

from django.core.mail.backends.base import BaseEmailBackend

_TOKEN = re.compile(r"/f/([A-Za-z0-9_-]+)/")


class CountingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        directory = os.environ["BENCH_SINK_DIR"]
        with open(os.path.join(directory, f"sent-{os.getpid()}.txt"), "a") as sink:
            for message in email_messages:
                match = _TOKEN.search(message.body)
                sink.write(f"{match.group(1) if match else '-'}\n")
        return len(email_messages)


def read_tokens(directory: str) -> list[str]:
    """Return every link token the workers sent (one entry per message)."""
    tokens = []
    for name in sorted(os.listdir(directory)):
        if name.startswith("sent-"):
            with open(os.path.join(directory, name)) as sink:
                tokens.extend(line.strip() for line in sink if line.strip())
    return tokens
