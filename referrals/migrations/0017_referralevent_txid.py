"""Each timeline event records the transaction that wrote it, set by the database, so the API's
events feed can read in an order no late commit can slip behind. Existing rows all get this
migration's transaction id, and keep their id order among themselves."""

from django.db import migrations, models

import referrals.models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0016_referral_clinical_answers_unanswered"),
    ]

    operations = [
        migrations.AddField(
            model_name="referralevent",
            name="txid",
            field=models.BigIntegerField(
                db_default=referrals.models.CurrentTransactionId(), editable=False
            ),
        ),
        migrations.AddIndex(
            model_name="referralevent",
            index=models.Index(fields=["txid", "id"], name="event_feed_idx"),
        ),
    ]
