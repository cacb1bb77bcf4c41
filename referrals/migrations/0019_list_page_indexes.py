"""Indexes that deliver the list pages' order (the referrer's dashboard, the triage worklist)
and the class places (docs/design-notes.md, "List pages at national scale").

Built concurrently, so that adding them to a live database of a million referrals blocks no
writes (hence not atomic).
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("referrals", "0018_referral_membership_number_visit")]

    operations = [
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                fields=["referring_organisation", "referring_clinician", "-updated_at", "-id"],
                name="referral_by_clinician_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["submitted", "info_requested", "accepted", "waitlisted"])
                ),
                fields=["operator", "submitted_at", "id"],
                name="referral_worklist_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("status__in", ["accepted", "booked", "active", "waitlisted"])),
                fields=["programme_class", "status"],
                name="referral_in_class_idx",
            ),
        ),
    ]
