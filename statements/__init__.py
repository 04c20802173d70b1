"""Single statements written once per model, for the hot paths (statements.rows)."""
