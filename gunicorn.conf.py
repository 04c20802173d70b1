"""gunicorn settings read from the working directory (the image's and `make`'s): logs that
never carry a link token. Command-line options still override anything here."""

logger_class = "clinic.gunicorn_logging.ScrubbingLogger"
# The combined format; every atom is scrubbed of link tokens by the logger class.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def post_worker_init(worker):
    """Once a worker has loaded the app, compile what its first requests would (the screening
    catalogues, clinic.warmup), then take all of it out of the garbage collector's full
    passes: Django, the app, their modules and the catalogues live as long as the worker, and
    walking them again on every full collection costs the requests that trigger one
    (gc.freeze)."""
    import gc

    from clinic.warmup import warm

    warm()
    gc.collect()
    gc.freeze()
