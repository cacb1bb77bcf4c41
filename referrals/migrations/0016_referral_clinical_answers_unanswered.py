"""Medication affecting heart rate and the risk level start unanswered (None, blank) instead of
"No" and "Low": a default was an answer nobody gave. Rows already written keep their values."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0015_referral_discharge_recommendations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="referral",
            name="heart_rate_medication",
            field=models.BooleanField(
                blank=True,
                null=True,
                verbose_name="takes medication affecting heart rate (e.g. beta blockers)",
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="risk_tier",
            field=models.CharField(
                blank=True,
                choices=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
                default="",
                max_length=10,
            ),
        ),
    ]
