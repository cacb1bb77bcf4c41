"""The instructor's recommendations for the referrer, given at completion or discharge and
carried in the discharge summary. Bounded like every free-text column."""

import django.core.validators
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

import accounts.validation


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0014_referral_safety_screened_by_draft_step"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="discharge_recommendations",
            field=models.TextField(
                blank=True,
                max_length=2000,
                validators=[
                    django.core.validators.MaxLengthValidator(2000),
                    accounts.validation.validate_multiline_text,
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("discharge_recommendations"), 2000
                ),
                name="referral_discharge_recommendations_max_length",
            ),
        ),
    ]
