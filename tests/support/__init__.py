"""Support for tests that run the real stack: an SMTP sink (`smtp`), subprocesses and bounded
waits (`processes`), the stack's environment (`environment`) and an HTTP browser (`http`).

Used by tests/integration, tests/reliability and tests/browser. Everything here is bounded in
time: a wait that does not succeed raises with what it saw.
"""
