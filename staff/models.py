"""Staff has no tables of its own.

This module exists because Django sends `post_migrate` only for apps with a models module,
and staff/apps.py hangs the staff groups' creation on that signal.
"""
