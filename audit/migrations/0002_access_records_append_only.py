"""Access records are evidence: the database refuses to change them.

UPDATE is always refused. DELETE is refused unless the deleting transaction first runs
`SET LOCAL audit.allow_purge = 'on'`, which only the retention job should do; the setting ends
with the transaction, so nothing else inherits it.
"""

from django.db import migrations

FORBID_CHANGES = """
CREATE FUNCTION audit_access_record_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access records are append-only (% of record %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_access_record_append_only
    BEFORE UPDATE OR DELETE ON audit_accessrecord
    FOR EACH ROW EXECUTE FUNCTION audit_access_record_guard();
"""

ALLOW_CHANGES = """
DROP TRIGGER IF EXISTS audit_access_record_append_only ON audit_accessrecord;
DROP FUNCTION IF EXISTS audit_access_record_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_access_records_and_change_history")]

    operations = [migrations.RunSQL(FORBID_CHANGES, reverse_sql=ALLOW_CHANGES)]
