"""The timeline is history: the database itself refuses to change a ReferralEvent row.

Deletes stay possible so that the retention purge can remove a whole referral.
"""

from django.db import migrations

FORBID_UPDATE = """
CREATE FUNCTION referral_event_forbid_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'referral events are append-only (event %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER referral_event_append_only
    BEFORE UPDATE ON referrals_referralevent
    FOR EACH ROW EXECUTE FUNCTION referral_event_forbid_update();
"""

ALLOW_UPDATE = """
DROP TRIGGER IF EXISTS referral_event_append_only ON referrals_referralevent;
DROP FUNCTION IF EXISTS referral_event_forbid_update();
"""


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_patients_referrals_events_sessions_outbox")]

    operations = [migrations.RunSQL(FORBID_UPDATE, reverse_sql=ALLOW_UPDATE)]
