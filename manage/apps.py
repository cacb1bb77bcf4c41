from django.apps import AppConfig


class ManageConfig(AppConfig):
    """Organisation admin: facilities, programmes, classes, members, subject access, audit."""

    name = "manage"
    label = "manage"
