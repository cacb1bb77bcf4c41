from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcome measures"

    def ready(self) -> None:
        from referrals.discharge import register_outcome_source
        from referrals.sections import register_section

        from .discharge import outcome_changes
        from .selectors import outcome_summary_section

        register_section("outcome_summary", outcome_summary_section)
        register_outcome_source("outcomes", outcome_changes)
