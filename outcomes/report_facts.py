"""The programme report's facts: one `ReportReferral` row per submitted referral and one
`ReportOutcome` row per outcome score it has at baseline and exit, so that a report reads one
row per referral instead of every session, visit, event and assessment of its history.

They are kept current by the database, in the transaction of the write they derive from:
statement-level triggers on referrals, patients, sessions, visits, timeline events and
assessments call `outcomes_report_refresh(ids)`, which recomputes those referrals' rows
(migration `outcomes/0003_report_facts`, where the SQL is). So the figures are exact as of the
last commit, on the primary and on any replica, and nothing has to remember to update them.
Programme settings (planned sessions, whether visits count) are read when the report runs,
so changing one changes no facts.

The rules the facts apply are those of `referrals.adherence` (sessions attended, visit days)
and `reports.py` (accepted, days to first session, evaluation consent);
`tests/outcomes/test_report_property.py` checks on random data that the report over the facts
equals a straightforward computation from the referrals themselves.

Loading data with triggers off (`session_replication_role = replica`, as the scale-data
generator does) skips them: `rebuild` then recomputes every referral's facts.
"""

from collections.abc import Callable

from django.db import connections

from . import instruments

REBUILD_CHUNK = 50_000


def score_paths() -> list[tuple[str, str, list[str]]]:
    """(instrument, dotted score path, its keys) for every score the report shows: each
    instrument's `reported_outputs`, and the GPPAQ's activity index for 'moved up a category'."""
    paths = [
        (code, path, path.split("."))
        for code, instrument in instruments.REGISTRY.items()
        for path in instrument.reported_outputs
    ]
    if not any(code == "gppaq" and path == "pai" for code, path, _keys in paths):
        paths.append(("gppaq", "pai", ["pai"]))
    return paths


def install_score_paths(using: str = "default") -> None:
    """Define `outcomes_report_score_paths()` from the instrument library as it is now (after
    every migrate), so a new instrument's scores are reported without a hand-written migration.
    Facts already stored keep the scores they were made with: `rebuild` brings them up to date."""
    rows = ", ".join(["(%s, %s, %s::text[])"] * len(score_paths()))
    params = [value for path in score_paths() for value in path]
    with connections[using].cursor() as cursor:
        body = cursor.mogrify(
            f"SELECT * FROM (VALUES {rows}) AS paths (instrument, score, keys)",  # noqa: S608
            params,
        ).decode()
        cursor.execute(
            "CREATE OR REPLACE FUNCTION outcomes_report_score_paths() "
            "RETURNS TABLE (instrument text, score text, keys text[]) "
            f"LANGUAGE sql IMMUTABLE AS $fn$ {body} $fn$"
        )


def rebuild(
    *, using: str = "default", where: str = "TRUE", log: Callable[[str], None] = lambda _: None
) -> int:
    """Recompute the facts of every referral matching `where` (SQL on `referrals_referral`, a
    constant of the caller's), in chunks so that no one statement holds a million ids."""
    total = 0
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT id FROM referrals_referral WHERE {where} ORDER BY id")  # noqa: S608
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(ids), REBUILD_CHUNK):
            chunk = ids[start : start + REBUILD_CHUNK]
            cursor.execute("SELECT outcomes_report_refresh(%s::bigint[])", [chunk])
            total += len(chunk)
            log(f"  report facts: {total:,} of {len(ids):,} referrals")
    return total
