from django.db import migrations

# The refresh runs in the trigger of every write to what the report's facts derive from, for a
# handful of ids each time. PL/pgSQL plans its statements afresh for each call's ids (custom
# plans) until it settles: several milliseconds of planning a write, for statements that run in
# under one. One generic plan, made once per connection, serves every call: index lookups by
# referral, whatever the number of ids.
SQL = "ALTER FUNCTION outcomes_report_refresh(bigint[]) SET plan_cache_mode = force_generic_plan;"
REVERSE = "ALTER FUNCTION outcomes_report_refresh(bigint[]) RESET plan_cache_mode;"


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0005_report_facts_covering_indexes")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
