"""Change-history tables indexed for the way they are read, not copied from their model's.

django-simple-history gives each copied column the index of the column it copies, and an
index to every copied foreign key: a visit's history table had eleven indexes (therapist,
status twice, scheduled time...), each one written with every history row. History is read
one record at a time (the admin's history page: a record's rows by its id, newest first), so
its table keeps the index on the record's id; simple-history's own columns keep theirs (the
history row's key, its date, and its user, which Django follows when a user is deleted).
"""

from __future__ import annotations

from simple_history.models import HistoricalRecords


class AuditHistory(HistoricalRecords):
    """HistoricalRecords whose table indexes only the id of the record each row describes."""

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields
