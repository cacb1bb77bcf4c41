from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The Leeds demo scheme: `manage.py seed_demo`, built through every app's services."""

    name = "demo"
    label = "demo"
