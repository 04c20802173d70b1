"""gunicorn's logger with link tokens scrubbed from the access and error logs (clinic.scrub).

Loaded by gunicorn.conf.py (`logger_class`), in the master before Django is set up.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from clinic.scrub import add_filter_to_handlers, scrub_tokens


class ScrubbingLogger(Logger):
    """Scrub every access-log atom (request line, path, query, referrer...) and every handler."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            add_filter_to_handlers(log)

    def atoms(self, resp, req, environ, request_time) -> dict:
        return {
            key: scrub_tokens(value) if isinstance(value, str) else value
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
