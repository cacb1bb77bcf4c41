"""The raw-SQL baseline of each page: one hand-written query for the rows the page shows.

A page's time over its baseline's says how much the page spends beyond fetching its data
(Python, templates, extra queries, a poor plan). Each query is written as someone who knows the
schema would write it for that page, once, with the bench's people's ids as parameters; it is
not kept in step with the page's own queries, which is the point of a baseline.
"""

# Hand-written SQL is this module's job; every value is a parameter, none is interpolated text.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from outcomes import instruments

from .world import Cast

REFERRAL_ROW = (
    "SELECT r.id, r.reference, r.status, r.updated_at, r.submitted_at, p.given_name,"
    " p.family_name, p.nhs_number, p.date_of_birth, pr.name, op.name, f.name"
    " FROM referrals_referral r JOIN referrals_patient p ON p.id = r.patient_id"
    " LEFT JOIN facilities_programme pr ON pr.id = r.programme_id"
    " LEFT JOIN accounts_organisation op ON op.id = r.operator_id"
    " LEFT JOIN facilities_facility f ON f.id = r.facility_id"
)
TRIAGE = ("submitted", "info_requested", "accepted", "waitlisted")
IN_PROGRAMME = ("booked", "active")
ACCEPTED_OR_LATER = ("accepted", "waitlisted", "booked", "active", "completed", "discharged")
FINAL = ("completed", "declined", "discharged", "cancelled")
ADHERENT_PERCENT = 75


@dataclass(frozen=True)
class Baseline:
    sql: str
    params: dict[str, Any]


def _organisations(user: User, role: str) -> list[int]:
    return list(
        user.memberships.filter(role=role, is_active=True).values_list("organisation_id", flat=True)
    )


def _staffed(user: User) -> list[int]:
    return list(user.facilities_worked.values_list("id", flat=True))


def referrer_home(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT count(*), count(*) FILTER (WHERE referring_clinician_id = %(user)s),"
        " count(*) FILTER (WHERE status = 'draft'),"
        " count(*) FILTER (WHERE status = 'info_requested')"
        " FROM referrals_referral WHERE referring_organisation_id = ANY(%(orgs)s)",
        {"user": cast.referrer.pk, "orgs": _organisations(cast.referrer, Role.REFERRER)},
    )


def referrer_dashboard(cast: Cast) -> Baseline:
    return Baseline(
        f"{REFERRAL_ROW} WHERE r.referring_organisation_id = ANY(%(orgs)s)"
        " AND r.referring_clinician_id = %(user)s ORDER BY r.updated_at DESC, r.id DESC LIMIT 25",
        {"user": cast.referrer.pk, "orgs": _organisations(cast.referrer, Role.REFERRER)},
    )


def coordinator_home(cast: Cast) -> Baseline:
    return Baseline(
        f"{REFERRAL_ROW} WHERE r.operator_id = %(operator)s AND r.status <> 'draft'"
        " ORDER BY r.updated_at DESC, r.id DESC LIMIT 25",
        {"operator": cast.operator.pk},
    )


def triage_worklist(cast: Cast) -> Baseline:
    return Baseline(
        f"{REFERRAL_ROW} WHERE r.operator_id = %(operator)s AND r.status = ANY(%(statuses)s)"
        " ORDER BY r.submitted_at, r.id LIMIT 50",
        {"operator": cast.operator.pk, "statuses": list(TRIAGE)},
    )


def triage_classes(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT c.id, c.name, c.weekday, c.start_time, c.capacity, f.name, p.name,"
        " coalesce(t.taken, 0), coalesce(t.waiting, 0)"
        " FROM facilities_programmeclass c JOIN facilities_programme p ON p.id = c.programme_id"
        " JOIN facilities_facility f ON f.id = c.facility_id"
        " LEFT JOIN (SELECT programme_class_id,"
        "  count(*) FILTER (WHERE status IN ('accepted', 'booked', 'active')) AS taken,"
        "  count(*) FILTER (WHERE status = 'waitlisted') AS waiting"
        "  FROM referrals_referral WHERE operator_id = %(operator)s"
        "  AND status IN ('accepted', 'booked', 'active', 'waitlisted')"
        "  GROUP BY programme_class_id) t ON t.programme_class_id = c.id"
        " WHERE p.operator_id = %(operator)s ORDER BY f.name, c.weekday, c.start_time",
        {"operator": cast.operator.pk},
    )


def triage_class(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT r.id, r.reference, r.status, r.status_changed_at, p.given_name, p.family_name"
        " FROM referrals_referral r JOIN referrals_patient p ON p.id = r.patient_id"
        " WHERE r.programme_class_id = %(class)s"
        " AND r.status IN ('accepted', 'booked', 'active', 'waitlisted')"
        " ORDER BY r.status_changed_at, r.id",
        {"class": cast.coordinator_class.pk},
    )


def triage_imports(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT i.id, i.public_id, i.filename, i.status, i.created_at,"
        " (SELECT count(*) FROM leisure_importrowproblem u WHERE u.operator_id = %(operator)s"
        "  AND u.kind = 'unmatched' AND u.resolved_at IS NULL)"
        " FROM leisure_attendanceimport i WHERE i.operator_id = %(operator)s"
        " ORDER BY i.created_at DESC LIMIT 20",
        {"operator": cast.operator.pk},
    )


def triage_unmatched(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT u.public_id, u.row_number, u.membership_number, u.referral_reference,"
        " u.nhs_number, u.date_of_birth, u.occurred_at, u.activity, i.filename"
        " FROM leisure_importrowproblem u"
        " JOIN leisure_attendanceimport i ON i.id = u.attendance_import_id"
        " WHERE u.operator_id = %(operator)s AND u.kind = 'unmatched' AND u.resolved_at IS NULL"
        " ORDER BY u.occurred_at, u.id LIMIT 50",
        {"operator": cast.operator.pk},
    )


def instructor_home(cast: Cast) -> Baseline:
    return Baseline(
        f"{REFERRAL_ROW} WHERE r.operator_id = ANY(%(operators)s)"
        " AND r.facility_id = ANY(%(facilities)s) AND r.status <> 'draft'"
        " ORDER BY r.updated_at DESC, r.id DESC LIMIT 25",
        {
            "operators": _organisations(cast.instructor, Role.INSTRUCTOR),
            "facilities": _staffed(cast.instructor),
        },
    )


SESSION_ROW = (
    "SELECT s.id, s.public_id, s.scheduled_at, s.status, s.programme_class_id, r.reference,"
    " r.status, p.given_name, p.family_name, pr.name"
    " FROM referrals_session s JOIN referrals_referral r ON r.id = s.referral_id"
    " JOIN referrals_patient p ON p.id = r.patient_id"
    " JOIN facilities_programme pr ON pr.id = r.programme_id"
)


def register_today(cast: Cast) -> Baseline:
    today = timezone.localdate()
    return Baseline(
        f"{SESSION_ROW} JOIN facilities_programmeclass c ON c.id = s.programme_class_id"
        " WHERE c.facility_id = ANY(%(facilities)s) AND c.weekday = %(weekday)s"
        " AND s.scheduled_at >= %(start)s::date AT TIME ZONE %(tz)s"
        " AND s.scheduled_at < (%(start)s::date + 1) AT TIME ZONE %(tz)s"
        " ORDER BY c.start_time, p.family_name, p.given_name, s.id",
        {
            "facilities": _staffed(cast.instructor),
            "weekday": today.weekday(),
            "start": today,
            "tz": timezone.get_current_timezone_name(),
        },
    )


def register(cast: Cast) -> Baseline:
    return Baseline(
        f"{SESSION_ROW} WHERE s.programme_class_id = %(class)s"
        " AND s.scheduled_at >= %(day)s::date AT TIME ZONE %(tz)s"
        " AND s.scheduled_at < (%(day)s::date + 1) AT TIME ZONE %(tz)s"
        " ORDER BY p.family_name, p.given_name, s.id",
        {
            "class": cast.register_class.pk,
            "day": cast.register_day,
            "tz": timezone.get_current_timezone_name(),
        },
    )


def caseload(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT r.id, r.reference, r.status, p.given_name, p.family_name, pr.name,"
        " pr.planned_sessions, pr.dna_limit, a.attended, a.missed, a.booked"
        " FROM referrals_referral r JOIN referrals_patient p ON p.id = r.patient_id"
        " JOIN facilities_programme pr ON pr.id = r.programme_id"
        " LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE s.status = 'attended') AS attended,"
        "  count(*) FILTER (WHERE s.status = 'dna') AS missed, count(*) AS booked"
        "  FROM referrals_session s WHERE s.referral_id = r.id) a ON true"
        " WHERE r.operator_id = ANY(%(operators)s) AND r.facility_id = ANY(%(facilities)s)"
        " AND r.status = ANY(%(statuses)s)"
        " ORDER BY p.family_name, p.given_name, r.id LIMIT 50",
        {
            "operators": _organisations(cast.instructor, Role.INSTRUCTOR),
            "facilities": _staffed(cast.instructor),
            "statuses": list(IN_PROGRAMME),
        },
    )


def outcomes_due(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT r.id, r.reference, r.status, pr.outcome_schedule,"
        " array_agg(a.instrument || ':' || a.timepoint) FILTER (WHERE a.id IS NOT NULL)"
        " FROM referrals_referral r JOIN facilities_programme pr ON pr.id = r.programme_id"
        " LEFT JOIN outcomes_assessment a ON a.referral_id = r.id"
        " WHERE r.operator_id = ANY(%(operators)s) AND r.facility_id = ANY(%(facilities)s)"
        " AND r.status IN ('booked', 'active', 'completed')"
        " GROUP BY r.id, pr.id ORDER BY r.reference",
        {
            "operators": _organisations(cast.instructor, Role.INSTRUCTOR),
            "facilities": _staffed(cast.instructor),
        },
    )


def _commissioned() -> str:
    return (
        "SELECT programme_id FROM facilities_programme_commissioners"
        " WHERE organisation_id = ANY(%(icbs)s)"
    )


def commissioner_home(user: User) -> Baseline:
    return Baseline(
        "SELECT status, count(*) FROM referrals_referral"
        f" WHERE programme_id IN ({_commissioned()}) AND status <> 'draft' GROUP BY status",
        {"icbs": _organisations(user, Role.COMMISSIONER)},
    )


def admin_home(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT count(*), count(*) FILTER (WHERE status <> ALL(%(final)s))"
        " FROM referrals_referral WHERE operator_id = %(operator)s AND status <> 'draft'",
        {"operator": cast.operator.pk, "final": list(FINAL)},
    )


def manage_index(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT o.name,"
        " (SELECT count(*) FROM facilities_facility WHERE operator_id = o.id AND is_active),"
        " (SELECT count(*) FROM facilities_programme WHERE operator_id = o.id AND is_active),"
        " (SELECT count(*) FROM facilities_programmeclass c JOIN facilities_programme p"
        "  ON p.id = c.programme_id WHERE p.operator_id = o.id AND c.is_active),"
        " (SELECT count(DISTINCT user_id) FROM accounts_membership"
        "  WHERE organisation_id = o.id AND is_active AND role <> 'system')"
        " FROM accounts_organisation o WHERE o.id = %(operator)s",
        {"operator": cast.operator.pk},
    )


def manage_facilities(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT f.id, f.name, f.postcode, f.is_active,"
        " (SELECT count(*) FROM facilities_programmeclass c WHERE c.facility_id = f.id"
        "  AND c.is_active),"
        " (SELECT string_agg(u.full_name, ', ' ORDER BY u.full_name)"
        "  FROM facilities_facility_staff s JOIN accounts_user u ON u.id = s.user_id"
        "  WHERE s.facility_id = f.id)"
        " FROM facilities_facility f WHERE f.operator_id = %(operator)s"
        " ORDER BY f.is_active DESC, f.name LIMIT 50",
        {"operator": cast.operator.pk},
    )


def manage_programmes(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT p.id, p.name, p.is_active, (SELECT count(*) FROM facilities_programmeclass c"
        "  WHERE c.programme_id = p.id AND c.is_active)"
        " FROM facilities_programme p WHERE p.operator_id = %(operator)s"
        " ORDER BY p.is_active DESC, p.name LIMIT 50",
        {"operator": cast.operator.pk},
    )


def manage_classes(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT c.id, c.name, c.weekday, c.start_time, c.is_active, p.name, f.name,"
        " (SELECT string_agg(u.full_name, ', ') FROM facilities_programmeclass_instructors i"
        "  JOIN accounts_user u ON u.id = i.user_id WHERE i.programmeclass_id = c.id)"
        " FROM facilities_programmeclass c JOIN facilities_programme p ON p.id = c.programme_id"
        " JOIN facilities_facility f ON f.id = c.facility_id WHERE p.operator_id = %(operator)s"
        " ORDER BY c.is_active DESC, f.name, c.weekday, c.start_time, c.name LIMIT 50",
        {"operator": cast.operator.pk},
    )


def manage_members(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT m.id, m.role, m.is_active, u.full_name, u.email FROM accounts_membership m"
        " JOIN accounts_user u ON u.id = m.user_id"
        " WHERE m.organisation_id = %(operator)s AND m.role <> 'system'"
        " ORDER BY m.is_active DESC, u.full_name, u.email, m.role LIMIT 50",
        {"operator": cast.operator.pk},
    )


def audit_search(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT a.id, a.at, a.kind, a.path, a.referral_ids, u.full_name, u.email"
        " FROM audit_accessrecord a LEFT JOIN accounts_user u ON u.id = a.user_id"
        " WHERE a.organisation_id = %(operator)s ORDER BY a.at DESC, a.id DESC LIMIT 50",
        {"operator": cast.operator.pk},
    )


def referral_page(cast: Cast) -> Baseline:
    return Baseline(
        "SELECT r.reference, r.status, p.given_name, p.family_name, p.nhs_number,"
        " e.action, e.to_status, e.note, e.created_at, u.full_name, o.name"
        " FROM referrals_referral r JOIN referrals_patient p ON p.id = r.patient_id"
        " LEFT JOIN referrals_referralevent e ON e.referral_id = r.id"
        " LEFT JOIN accounts_user u ON u.id = e.actor_id"
        " LEFT JOIN accounts_organisation o ON o.id = e.actor_organisation_id"
        " WHERE r.reference = %(reference)s ORDER BY e.created_at, e.id",
        {"reference": cast.referral.reference},
    )


def _score_paths() -> str:
    """A VALUES list of (instrument, score path) for every reported outcome score."""
    rows = [
        f"('{code}', '{{{path.replace('.', ',')}}}'::text[])"
        for code, instrument in instruments.REGISTRY.items()
        for path in instrument.reported_outputs
    ]
    return ", ".join(rows)


def report(programmes_sql: str, params: dict[str, Any]) -> Baseline:
    """The report's figures with each referral's facts computed once: headline and breakdowns
    by grouping sets, and the outcome changes, in one statement."""
    sql = f"""
WITH scope AS (
  SELECT r.id, r.status, r.submitted_at, r.consent_research, pr.planned_sessions, p.sex,
         p.ethnicity, date_part('year', age(r.referred_on, p.date_of_birth)) AS age,
         EXISTS (SELECT 1 FROM referrals_referralevent e
                 WHERE e.referral_id = r.id AND e.to_status = 'accepted') AS was_accepted
  FROM referrals_referral r JOIN facilities_programme pr ON pr.id = r.programme_id
  JOIN referrals_patient p ON p.id = r.patient_id
  WHERE r.programme_id IN ({programmes_sql}) AND r.status <> 'draft'),
attended AS (
  SELECT s.referral_id, count(*) AS n,
         min(s.scheduled_at) FILTER (WHERE s.scheduled_at >= scope.submitted_at) AS first_at
  FROM referrals_session s JOIN scope ON scope.id = s.referral_id
  WHERE s.status = 'attended' GROUP BY s.referral_id),
facts AS (
  SELECT scope.*, coalesce(a.n, 0) AS n, a.first_at FROM scope
  LEFT JOIN attended a ON a.referral_id = scope.id),
figures AS (
  SELECT grouping(sex) AS by_sex, grouping(ethnicity) AS by_ethnicity,
         grouping(width_bucket(age, ARRAY[16, 25, 35, 45, 55, 65, 75])) AS by_age,
         sex, ethnicity, width_bucket(age, ARRAY[16, 25, 35, 45, 55, 65, 75]) AS age_band,
         count(*) AS referrals,
         count(*) FILTER (WHERE was_accepted OR status = ANY(%(accepted)s)) AS accepted,
         count(*) FILTER (WHERE n >= 1) AS started,
         count(*) FILTER (WHERE n >= 1 AND status = 'completed') AS completed,
         count(*) FILTER (WHERE n * 100 >= planned_sessions * {ADHERENT_PERCENT}) AS adherent,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY first_at::date - submitted_at::date)
           AS median_days
  FROM facts GROUP BY GROUPING SETS ((), (sex), (ethnicity),
                                     (width_bucket(age, ARRAY[16, 25, 35, 45, 55, 65, 75])))),
changes AS (
  SELECT b.instrument, paths.path,
         (e.scores #>> paths.path)::float - (b.scores #>> paths.path)::float AS change
  FROM outcomes_assessment b
  JOIN outcomes_assessment e ON e.referral_id = b.referral_id
       AND e.instrument = b.instrument AND e.timepoint = 'exit'
  JOIN (VALUES {_score_paths()}) AS paths(instrument, path) ON paths.instrument = b.instrument
  WHERE b.timepoint = 'baseline'
    AND b.referral_id IN (SELECT id FROM scope WHERE consent_research))
SELECT 'figures', by_sex::text || by_ethnicity::text || by_age::text,
       coalesce(sex, '') || coalesce(ethnicity, '') || coalesce(age_band::text, ''),
       referrals, accepted, started, completed, adherent, median_days, NULL::float
FROM figures
UNION ALL
SELECT 'outcome', instrument, array_to_string(path, '.'), count(change), NULL, NULL, NULL,
       NULL, avg(change), stddev_samp(change)
FROM changes GROUP BY instrument, path
"""
    return Baseline(sql, {**params, "accepted": list(ACCEPTED_OR_LATER)})


def operator_report(cast: Cast) -> Baseline:
    return report(
        "SELECT id FROM facilities_programme WHERE operator_id = ANY(%(operators)s)",
        {"operators": _organisations(cast.coordinator, Role.COORDINATOR)},
    )


def commissioner_report(user: User) -> Baseline:
    return report(_commissioned(), {"icbs": _organisations(user, Role.COMMISSIONER)})
