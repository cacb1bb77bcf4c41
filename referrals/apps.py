from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Patients and referrals"

    def ready(self) -> None:
        from .alerts import alerts_section
        from .sections import register_section

        # The alert banner on the referral page goes through the registry like other apps'
        # parts, so the page's view needs no edit for it.
        register_section("alerts", alerts_section)
