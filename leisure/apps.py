from django.apps import AppConfig


class LeisureConfig(AppConfig):
    """The leisure side's pages: triage, classes and places, registers and caseload."""

    name = "leisure"
    label = "leisure"

    def ready(self) -> None:
        from governance.retention import referrals_pseudonymised
        from referrals.sections import register_section

        from .contact import contact_notes_forget
        from .views.contact import contact_attempts_section
        from .views.triage import triage_actions_section

        register_section("triage_actions", triage_actions_section)
        register_section("contact_attempts", contact_attempts_section)
        referrals_pseudonymised.connect(
            contact_notes_forget, dispatch_uid="leisure.contact_notes_forget"
        )
