from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
        post_migrate.connect(_install_score_paths, sender=self)


def _install_score_paths(using: str = "default", **kwargs: object) -> None:
    """The report's score paths follow the instrument library (`report_facts`)."""
    from .report_facts import install_score_paths

    install_score_paths(using)
