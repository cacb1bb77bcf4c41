"""Who answered the safety screen (the provider sees it with the answers), and where the referrer
left a draft (so "Continue the referral" reopens that step). Existing rows keep both empty: who
answered an old screen is not known, and an old draft falls back to its first unfinished step."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0013_safety_alerts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="safety_screened_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="draft_step",
            field=models.CharField(blank=True, max_length=20),
        ),
    ]
