"""The one way out of the referral's transaction: `event_recorded`, sent for every timeline event
that may need telling (a state change or a missed session), inside the transaction that wrote it.

Receivers run in that transaction, so what they write (the delivery app's outbox rows) commits or
rolls back with the change itself; an exception in a receiver undoes the change. The referral
app does not know who listens: `delivery` connects in its `AppConfig.ready` (ADR 0004).
"""

from django.dispatch import Signal

# Sent with `event=` the ReferralEvent just written.
event_recorded = Signal()
