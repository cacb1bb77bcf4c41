"""Patient records per organisation (issue 9, item 1).

Until now one Patient row per NHS number was shared by every organisation that referred the
person, so one practice's answers overwrote what another practice and its provider saw. Each
organisation now holds its own record. Existing rows are split without loss: a row referred by
one organisation becomes that organisation's; a row referred by several is copied once for each
further organisation (every field, the details as they stand today), and that organisation's
referrals move to its copy. No referral is lost and every
referral's patient shows exactly what it showed before. A row no referral points at belongs to
nobody and was never reachable from any page (a referral and its new patient are created in one
transaction; only a referral deleted in Django admin leaves one): it is deleted rather than given
to an organisation that never recorded it.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def split_shared_patients(apps, schema_editor):
    Patient = apps.get_model("referrals", "Patient")
    Referral = apps.get_model("referrals", "Referral")
    for patient in Patient.objects.order_by("pk").iterator():
        organisation_ids = list(
            Referral.objects.filter(patient_id=patient.pk)
            .order_by("created_at", "pk")
            .values_list("referring_organisation_id", flat=True)
        )
        ordered = list(dict.fromkeys(organisation_ids))
        if not ordered:
            Patient.objects.filter(pk=patient.pk).delete()
            continue
        first, *others = ordered
        Patient.objects.filter(pk=patient.pk).update(organisation_id=first)
        for organisation_id in others:
            original = Patient.objects.get(pk=patient.pk)
            original.pk = None
            original.id = None
            original.public_id = uuid.uuid4()
            original.organisation_id = organisation_id
            original._state.adding = True
            original.save(force_insert=True)
            Referral.objects.filter(
                patient_id=patient.pk, referring_organisation_id=organisation_id
            ).update(patient_id=original.pk)
    _check_deferred_constraints_now(schema_editor)


def _check_deferred_constraints_now(schema_editor):
    """Run the deferred foreign-key checks now: PostgreSQL will not alter a table with pending
    trigger events in the same transaction, and the next operation alters this one."""
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def join_records_back(apps, schema_editor):
    """Reversal merges each NHS number's records into its oldest one (the old shared row)."""
    Patient = apps.get_model("referrals", "Patient")
    Referral = apps.get_model("referrals", "Referral")
    seen: dict[str, int] = {}
    for patient in Patient.objects.exclude(nhs_number=None).order_by("pk").iterator():
        keeper = seen.setdefault(patient.nhs_number, patient.pk)
        if keeper != patient.pk:
            Referral.objects.filter(patient_id=patient.pk).update(patient_id=keeper)
            patient.delete()
    _check_deferred_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organisation_status_update_channels"),
        ("referrals", "0005_notification_delivery_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="organisation",
            field=models.ForeignKey(
                null=True,
                help_text="The organisation that gave these details and holds this record.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="patients",
                to="accounts.organisation",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="patient",
            name="patient_nhs_number_unique",
        ),
        migrations.RunPython(split_shared_patients, join_records_back),
        migrations.AlterField(
            model_name="patient",
            name="organisation",
            field=models.ForeignKey(
                help_text="The organisation that gave these details and holds this record.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="patients",
                to="accounts.organisation",
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["nhs_number"], name="patient_nhs_number_idx"),
        ),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(
                condition=models.Q(("nhs_number__isnull", False)),
                fields=("organisation", "nhs_number"),
                name="patient_nhs_number_unique_per_organisation",
                violation_error_code="duplicate_nhs_number",
                violation_error_message="Your organisation already has a patient with this NHS "
                "number",
            ),
        ),
    ]
