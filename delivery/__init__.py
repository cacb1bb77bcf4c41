"""Delivery of the notification outbox: email, webhooks (FHIR messages), retries and the sweep.

`delivery/notifications.py` decides which rows an event writes; this package sends them:
`outbox.py` claims, sends and records (and re-queues in the sweep), `email.py` and `webhook.py`
are the two outbound channels, `fhir_messages.py` builds the webhook's FHIR R4 message Bundle,
`discharge.py` the discharge summary, `reminders.py` the overdue-triage reminders and
`selectors.py` the delivery log. docs/status-updates.md describes the whole loop.
"""
