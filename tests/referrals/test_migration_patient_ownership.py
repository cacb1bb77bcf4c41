"""The migration that splits shared patient rows into one record per organisation loses nothing."""

import datetime

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("referrals", "0005_notification_delivery_state")]
AFTER = [("referrals", "0006_patient_records_per_organisation")]


@pytest.mark.django_db(transaction=True)
def test_a_shared_patient_becomes_one_record_per_referring_organisation():
    old = migrate(BEFORE)
    Organisation = old.get_model("accounts", "Organisation")
    Patient = old.get_model("referrals", "Patient")
    Referral = old.get_model("referrals", "Referral")
    a = Organisation.objects.create(kind="gp_practice", name="A", code="A00001")
    b = Organisation.objects.create(kind="gp_practice", name="B", code="B00002")
    shared = Patient.objects.create(
        nhs_number="9990224072",
        given_name="Shared",
        family_name="Person",
        date_of_birth=datetime.date(1960, 1, 2),
        sex="F",
        postcode="LS6 2AB",
        phone="07700 900123",
    )
    only_a = Patient.objects.create(
        given_name="Only",
        family_name="A",
        date_of_birth=datetime.date(1970, 3, 4),
        sex="M",
        postcode="LS7 3AA",
    )
    orphan = Patient.objects.create(
        given_name="Nobody",
        family_name="Refers",
        date_of_birth=datetime.date(1980, 5, 6),
        sex="M",
        postcode="LS7 3AA",
    )
    refs = {
        "ER-AAAAA1": (shared, a),
        "ER-AAAAA2": (shared, b),
        "ER-AAAAA3": (shared, a),
        "ER-AAAAA4": (only_a, a),
    }
    for reference, (patient, organisation) in refs.items():
        Referral.objects.create(
            reference=reference,
            patient=patient,
            referring_organisation=organisation,
            clinician_name="Dr Test",
        )

    new = migrate(AFTER)
    Patient = new.get_model("referrals", "Patient")
    Referral = new.get_model("referrals", "Referral")

    records = Patient.objects.filter(nhs_number="9990224072")
    assert sorted(records.values_list("organisation__code", flat=True)) == ["A00001", "B00002"]
    for record in records:
        assert (record.given_name, record.phone) == ("Shared", "07700 900123")
    for reference, (_patient, organisation) in refs.items():
        referral = Referral.objects.get(reference=reference)
        assert referral.patient.organisation_id == organisation.pk
    assert Referral.objects.get(reference="ER-AAAAA1").patient_id == shared.pk
    assert Referral.objects.get(reference="ER-AAAAA4").patient.organisation_id == a.pk
    assert not Patient.objects.filter(pk=orphan.pk).exists()

    # And back: one shared row again, every referral still pointing at a patient.
    old = migrate(BEFORE)
    Patient = old.get_model("referrals", "Patient")
    Referral = old.get_model("referrals", "Referral")
    assert Patient.objects.filter(nhs_number="9990224072").count() == 1
    assert set(Referral.objects.values_list("patient_id", flat=True)) == {shared.pk, only_a.pk}

    migrate_to_latest()
