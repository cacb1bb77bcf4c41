"""Which timeline events reach the referrer, and the outbox rows that carry them.

Rows are written inside the transaction of the change that caused them (a transactional outbox),
so an update is never lost between the change and its delivery. Delivery itself is the
status-update issue's work: it only ever reads these rows.
"""

from .models import Notification, ReferralEvent

# Events about the referral itself always reach the referrer.
REFERRAL_EVENTS = frozenset({"submit", "accept", "decline", "request_info", "waitlist", "cancel"})
# Events about the patient's progress need their consent to share progress back.
PROGRESS_EVENTS = frozenset({"book", "start", "dna", "complete", "discharge"})


def notifications_queue_for_event(event: ReferralEvent) -> list[Notification]:
    """Write one outbox row per channel and recipient for an event that matters to the referrer."""
    referral = event.referral
    if event.action in PROGRESS_EVENTS and not referral.shares_progress:
        return []
    if event.action not in REFERRAL_EVENTS | PROGRESS_EVENTS:
        return []
    organisation = referral.referring_organisation
    clinician = referral.referring_clinician
    rows = []
    if clinician is not None and clinician.is_active:
        rows.append(
            Notification(
                referral=referral,
                event=event,
                channel=Notification.Channel.IN_APP,
                recipient_organisation=organisation,
                recipient_user=clinician,
            )
        )
    email = clinician.email if clinician is not None and clinician.is_active else ""
    email = email or organisation.shared_mailbox
    if email:
        rows.append(
            Notification(
                referral=referral,
                event=event,
                channel=Notification.Channel.EMAIL,
                recipient_organisation=organisation,
                recipient_user=clinician,
                recipient_address=email,
            )
        )
    return Notification.objects.bulk_create(rows)
