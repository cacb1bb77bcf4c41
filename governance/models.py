"""Change history of patients, assessments, memberships, programmes and organisations.

django-pghistory keeps it with database triggers on the tracked tables, which copy each row into
its event table with the acting user and request id (`audit.middleware.HistoryMiddleware`) as
context. The event models import the models they track, so they live here, above those apps; the
tables keep their first names (`audit_*event`), as the models moved without their data
(ADR 0005).
"""

import pghistory
from django.db import models

from accounts.models import Membership, Organisation
from facilities.models import Programme
from outcomes.models import Assessment
from referrals.models import Patient


def _history(model, name: str, table: str):
    return pghistory.create_event_model(
        model,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        app_label="governance",
        model_name=name,
        obj_field=pghistory.ObjForeignKey(db_constraint=False, on_delete=models.DO_NOTHING),
        abstract=False,
        meta={"db_table": table},
    )


PatientEvent = _history(Patient, "PatientEvent", "audit_patientevent")
AssessmentEvent = _history(Assessment, "AssessmentEvent", "audit_assessmentevent")
MembershipEvent = _history(Membership, "MembershipEvent", "audit_membershipevent")
ProgrammeEvent = _history(Programme, "ProgrammeEvent", "audit_programmeevent")
OrganisationEvent = _history(Organisation, "OrganisationEvent", "audit_organisationevent")
