"""Messaging: sending to clients and staff, below the apps that decide what to send.

- `channels`: one class per channel (email, SMS backends), each `send()` raising a
  `TransportError` that says whether it is permanent; `notify()` sends a `Notice` on several.
- `alerts`: a message to a staff user (email; SMS too when urgent and a number is set).
- `models.LinkMessage`, `kinds`, `dispatch`, `sending`, `links`: messages to clients that carry
  a login-free link and are sent by the tick, with the same guarantees for every kind.
- `models.OutboxMessage` and its page: the development outbox.

A new kind of link message plugs in like this (the follow-up check-in is the example:
followup.models.CheckIn and followup.sending.CheckInKind):

1. A model that subclasses `messaging.models.LinkMessage`, adds its own foreign key (for
   example to the visit), and keeps the shared Meta: `class Meta(LinkMessage.Meta)`, listing
   `*LinkMessage.Meta.constraints` if it adds constraints of its own. Make its migration.
2. One small `messaging.kinds.LinkKind` subclass: `name` (unique, carried by the send task),
   `model`, `select_related` and `reads` (what the next two read with the batch),
   `recipient(row)` (addresses, and `reachable=False` once the client opted out),
   `notice(row, token)` (the message, built from the link only), `link_expires_at(now)`
   (or None when the row's `expires_at` is set at scheduling) and `overdue_after()`.
3. Register one instance in the app's AppConfig.ready(): `messaging.kinds.register(KIND)`.
4. Write rows (`due_at`, `channels`; status `scheduled`) when they should go out. The tick
   then claims, sends (`messaging.tasks.send_links`), records, retries, sweeps and expires
   them; nothing else is needed for beat or `manage.py sendmessages --loop`.
5. The link's page finds its row with `messaging.links.find(rows, token)` and uses it while
   `row.link_works()`. Its answer, in one transaction with the row locked, calls
   `messaging.links.mark_answered(row)`: that closes the link (every copy of the message
   carries the same one) and returns False if it no longer works. A page that has only the
   token does the look-up, the lock and the close in one statement with
   `messaging.links.close_for_answer(Model, token)` (the row closed, or None). Front desk's
   resend and cancel: `rows.resend(due_at=...)` (a new link) and `rows.cancel(reason=...)`.
6. Add the kind to `tests/reliability/kinds.py` (one entry): the fault tests then send, kill
   and check it like every other kind.
"""
