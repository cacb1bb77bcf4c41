"""The timeline stays append-only, with one exception: the retention rule may clear a note.

An update is allowed only when it sets `note` to '' and leaves every other column as it was;
anything else is still refused by the database (see 0002).
"""

from django.db import migrations

ALLOW_NOTE_CLEARING = """
CREATE OR REPLACE FUNCTION referral_event_forbid_update() RETURNS trigger AS $$
BEGIN
    IF NEW.note = '' AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'referral events are append-only (event %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

FORBID_EVERY_UPDATE = """
CREATE OR REPLACE FUNCTION referral_event_forbid_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'referral events are append-only (event %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("referrals", "0008_retention_pseudonymised_at")]

    operations = [migrations.RunSQL(ALLOW_NOTE_CLEARING, reverse_sql=FORBID_EVERY_UPDATE)]
