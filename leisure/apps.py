from django.apps import AppConfig


class LeisureConfig(AppConfig):
    """The leisure side's pages: triage, classes and places, registers and caseload."""

    name = "leisure"
    label = "leisure"

    def ready(self) -> None:
        from clinical.reasons import DeclineReason
        from governance.retention import (
            RetentionStep,
            referrals_pseudonymised,
            register_retention_step,
        )
        from governance.subject_access import ReferralRecords, register_referral_records
        from referrals.sections import register_section
        from referrals.services import register_decline_check
        from referrals.visits import (
            FORGET_UNMATCHED,
            membership_numbers_held_by,
            visits_held_by,
            visits_unmatched_due,
            visits_unmatched_forget,
        )

        from .contact import (
            contact_attempts_held_by,
            contact_notes_forget,
            unable_to_contact_refusal,
        )
        from .imports.clearing import CLEAR_IMPORTS, imports_clear, imports_due_for_clearing
        from .views.contact import contact_attempts_section
        from .views.membership import membership_number_section
        from .views.triage import triage_actions_section

        register_section("triage_actions", triage_actions_section)
        register_section("contact_attempts", contact_attempts_section)
        register_section("membership_number", membership_number_section)
        register_referral_records(
            "contact_attempts", ReferralRecords("Contact attempts", contact_attempts_held_by)
        )
        register_referral_records(
            "membership_number",
            ReferralRecords("Leisure membership number", membership_numbers_held_by),
        )
        register_referral_records(
            "self_directed_visits", ReferralRecords("Self-directed visits", visits_held_by)
        )
        register_decline_check(DeclineReason.UNABLE_TO_CONTACT, unable_to_contact_refusal)
        register_retention_step(
            RetentionStep(
                action=CLEAR_IMPORTS,
                due=imports_due_for_clearing,
                apply=imports_clear,
                organisation=("operator__name", "operator__code"),
                oldest_field="created_at",
            )
        )
        register_retention_step(
            RetentionStep(
                action=FORGET_UNMATCHED,
                due=visits_unmatched_due,
                apply=visits_unmatched_forget,
                organisation=("operator__name", "operator__code"),
                oldest_field="created_at",
            )
        )
        referrals_pseudonymised.connect(
            contact_notes_forget, dispatch_uid="leisure.contact_notes_forget"
        )
