from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    """Status updates to the referrer: the outbox rows an event writes and their delivery."""

    name = "delivery"
    label = "delivery"

    def ready(self) -> None:
        from referrals.events import event_recorded
        from referrals.sections import register_section

        from .notifications import notifications_queue_for_event
        from .reminders import safety_alert_notifications_for_event
        from .selectors import delivery_log_section

        # Strong reference, fixed uid: connected once however often ready() runs (tests).
        event_recorded.connect(
            notifications_queue_for_event, dispatch_uid="delivery.notifications_queue_for_event"
        )
        event_recorded.connect(
            safety_alert_notifications_for_event,
            dispatch_uid="delivery.safety_alert_notifications_for_event",
        )
        register_section("delivery_log", delivery_log_section)
