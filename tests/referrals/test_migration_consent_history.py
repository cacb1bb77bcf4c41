"""The migration that starts the consent history from the referral's flags, and its reverse."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("referrals", "0011_free_text_limits")]
AFTER = [("referrals", "0012_consent_history")]


@pytest.mark.django_db(transaction=True)
def test_each_submitted_referral_gets_its_decisions_as_history():
    old = migrate(BEFORE)
    Organisation = old.get_model("accounts", "Organisation")
    Patient = old.get_model("referrals", "Patient")
    Referral = old.get_model("referrals", "Referral")
    Programme = old.get_model("facilities", "Programme")
    practice = Organisation.objects.create(kind="gp_practice", name="A", code="A00001")
    operator = Organisation.objects.create(kind="leisure_operator", name="X", code="X00001")
    programme = Programme.objects.create(operator=operator, name="Active Lives")
    patient = Patient.objects.create(
        organisation=practice,
        given_name="Ann",
        family_name="Example",
        date_of_birth=datetime.date(1960, 1, 2),
        sex="F",
        postcode="LS6 2AB",
    )
    consented = timezone.now() - datetime.timedelta(days=40)
    withdrawn = timezone.now() - datetime.timedelta(days=10)
    common = {
        "patient": patient,
        "referring_organisation": practice,
        "clinician_name": "Dr Test",
        "programme": programme,
        "operator": operator,
        "submitted_at": consented,
        "status": "submitted",
        "consent_referral": True,
        "consent_recorded_at": consented,
    }
    Referral.objects.create(reference="ER-AAAAA1", consent_share_outcomes=True, **common)
    Referral.objects.create(
        reference="ER-AAAAA2",
        consent_share_outcomes=True,
        consent_research=True,
        consent_withdrawn_at=withdrawn,
        **common,
    )
    Referral.objects.create(
        reference="ER-AAAAA3", patient=patient, referring_organisation=practice, clinician_name="x"
    )

    new = migrate(AFTER)
    Referral = new.get_model("referrals", "Referral")
    ConsentRecord = new.get_model("referrals", "ConsentRecord")

    def history(reference):
        return list(
            ConsentRecord.objects.filter(referral__reference=reference)
            .order_by("recorded_at", "id")
            .values_list("purpose", "decision", "recorded_at")
        )

    assert history("ER-AAAAA1") == [
        ("referral", "given", consented),
        ("share_progress", "given", consented),
        ("evaluation", "not_given", consented),
    ]
    assert history("ER-AAAAA2")[-1] == ("share_progress", "withdrawn", withdrawn)
    assert Referral.objects.get(reference="ER-AAAAA2").consent_share_outcomes is False
    assert history("ER-AAAAA3") == []
    record = ConsentRecord.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(decision="withdrawn")

    # And back: the withdrawal is a `consent_withdrawn_at` again.
    old = migrate(BEFORE)
    Referral = old.get_model("referrals", "Referral")
    again = Referral.objects.get(reference="ER-AAAAA2")
    assert (again.consent_withdrawn_at, again.consent_share_outcomes) == (withdrawn, True)

    migrate_to_latest()
