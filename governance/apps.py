from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Information governance over every other app: change history, retention, subject access."""

    name = "governance"
    label = "governance"
