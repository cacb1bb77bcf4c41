"""Consent history: one append-only record per decision, backfilled from the referral's flags.

Each submitted referral gets a record per purpose (given or not given, "recorded with the
referral", at the time consent was recorded). A `consent_withdrawn_at` (set by nothing in the
product, but possible in data) becomes a withdrawal of share-progress consent, which is what it
stopped. The database refuses updates to the history except the retention rule clearing a note.
"""

import uuid

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import accounts.validation

APPEND_ONLY = """
CREATE FUNCTION consent_record_forbid_update() RETURNS trigger AS $$
BEGIN
    IF NEW.note = '' AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent records are append-only (record %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consent_record_append_only
    BEFORE UPDATE ON referrals_consentrecord
    FOR EACH ROW EXECUTE FUNCTION consent_record_forbid_update();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS consent_record_append_only ON referrals_consentrecord;
DROP FUNCTION IF EXISTS consent_record_forbid_update();
"""
FLAGS = {
    "referral": "consent_referral",
    "share_progress": "consent_share_outcomes",
    "evaluation": "consent_research",
}


def history_from_flags(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    ConsentRecord = apps.get_model("referrals", "ConsentRecord")
    submitted = Referral.objects.exclude(status="draft").filter(consent_recorded_at__isnull=False)
    batch = []
    for referral in submitted.iterator(chunk_size=2000):
        for purpose, flag in FLAGS.items():
            given = getattr(referral, flag)
            batch.append(
                ConsentRecord(
                    referral_id=referral.pk,
                    purpose=purpose,
                    decision="given" if given else "not_given",
                    method="with_referral",
                    recorded_by_id=referral.consent_recorded_by_id,
                    recorded_by_organisation_id=referral.referring_organisation_id,
                    recorded_at=referral.consent_recorded_at,
                )
            )
        if referral.consent_withdrawn_at is not None and referral.consent_share_outcomes:
            batch.append(
                ConsentRecord(
                    referral_id=referral.pk,
                    purpose="share_progress",
                    decision="withdrawn",
                    method="with_referral",
                    note="Recorded before the consent history was kept",
                    recorded_at=referral.consent_withdrawn_at,
                )
            )
        if len(batch) >= 6000:
            ConsentRecord.objects.bulk_create(batch)
            batch = []
    ConsentRecord.objects.bulk_create(batch)
    withdrawn = submitted.filter(consent_withdrawn_at__isnull=False)
    withdrawn.update(consent_share_outcomes=False)


def flags_from_history(apps, schema_editor):
    """Back to flags: a share-progress withdrawal becomes `consent_withdrawn_at` again, and an
    ended referral whose consent was withdrawn shows the consent it was submitted with."""
    Referral = apps.get_model("referrals", "Referral")
    ConsentRecord = apps.get_model("referrals", "ConsentRecord")
    for record in ConsentRecord.objects.filter(
        purpose="share_progress", decision="withdrawn"
    ).order_by("recorded_at"):
        Referral.objects.filter(pk=record.referral_id).update(
            consent_withdrawn_at=record.recorded_at, consent_share_outcomes=True
        )
    Referral.objects.exclude(status="draft").filter(consent_referral=False).update(
        consent_referral=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_free_text_limits"),
        ("facilities", "0003_free_text_limits"),
        ("referrals", "0011_free_text_limits"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "purpose",
                    models.CharField(
                        choices=[
                            ("referral", "The referral itself"),
                            ("share_progress", "Sharing progress and outcomes with the referrer"),
                            ("evaluation", "Anonymised evaluation use"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[
                            ("given", "Given"),
                            ("not_given", "Not given"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("with_referral", "Recorded with the referral"),
                            ("in_person", "In person"),
                            ("telephone", "By telephone"),
                            ("written", "In writing (letter or email)"),
                            ("representative", "Through a carer or representative"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "note",
                    models.TextField(
                        blank=True,
                        max_length=500,
                        validators=[
                            django.core.validators.MaxLengthValidator(500),
                            accounts.validation.validate_multiline_text,
                        ],
                    ),
                ),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["recorded_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="recorded_by_organisation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="referral",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="consents",
                to="referrals.referral",
            ),
        ),
        migrations.AddIndex(
            model_name="consentrecord",
            index=models.Index(fields=["referral", "recorded_at"], name="consent_history_idx"),
        ),
        migrations.AddConstraint(
            model_name="consentrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("purpose__in", ["referral", "share_progress", "evaluation"])),
                name="consent_purpose_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("decision__in", ["given", "not_given", "withdrawn"])),
                name="consent_decision_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "method__in",
                        ["with_referral", "in_person", "telephone", "written", "representative"],
                    )
                ),
                name="consent_method_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentrecord",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("note"), 500
                ),
                name="consentrecord_note_max_length",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="referral",
            name="referral_submitted_is_complete",
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"),
                    models.Q(
                        ("operator__isnull", False),
                        ("programme__isnull", False),
                        ("submitted_at__isnull", False),
                        models.Q(
                            ("consent_referral", True),
                            ("status__in", ["completed", "declined", "discharged", "cancelled"]),
                            _connector="OR",
                        ),
                    ),
                    _connector="OR",
                ),
                name="referral_submitted_is_complete",
            ),
        ),
        migrations.RunSQL(APPEND_ONLY, reverse_sql=DROP_APPEND_ONLY),
        migrations.RunPython(history_from_flags, flags_from_history),
        migrations.RemoveField(
            model_name="referral",
            name="consent_withdrawn_at",
        ),
    ]
