"""Staff accounts are Django's users and groups; roles are in staff/roles.py."""
