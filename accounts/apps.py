from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and organisations"

    def ready(self) -> None:
        from . import session_timeout  # noqa: F401  (connects the sign-in receiver)
