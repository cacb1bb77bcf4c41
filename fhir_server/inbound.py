"""A BaRS-shaped referral message read into the API's draft answers, each traced to its element.

The message is a `message` Bundle: a MessageHeader (event `servicerequest-request`), the
ServiceRequest it focuses on, the Patient it is for, and what supports it: a blood pressure
Observation (the LOINC panel 85354-9, or the systolic 8480-6 and diastolic 8462-4 readings), a
QuestionnaireResponse to the portal's safety-screen Questionnaire, and one Consent per purpose.
`read_message` turns it into the body `POST /api/v1/referrals/` takes, so the wizard's forms and
the services judge it exactly as they judge a referral made in the browser (`process.py`), and
records, for every answer, the FHIRPath of the element it came from: a refusal then names the
element to fix.
"""

from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from pydantic import ValidationError as PydanticError

from clinical.conditions import BP_EXCLUSION_LIMIT, Exclusion, bp_is_excluded
from clinical.fhir_systems import (
    BARS_MESSAGE_EVENTS,
    LOINC,
    NHS_NUMBER,
    ODS_ORGANISATION,
    SNOMED,
    UBRN,
    portal_system,
)
from referrals.forms import ClinicalDetailsForm
from referrals.models import ConsentPurpose, Priority

from .outcome import BUSINESS_RULE, REQUIRED, STRUCTURE, VALUE, FhirError, Issue
from .resources.patient import GENDER, INTERPRETER_REQUIRED
from .resources.questionnaires import SCREEN_ITEMS, safety_screen_canonical
from .resources.referral import BP_DIASTOLIC, BP_PANEL, BP_SYSTOLIC

REQUEST_EVENT = "servicerequest-request"
SEX_OF_GENDER = {gender: sex for sex, gender in GENDER.items()}
EXCLUSION_ITEMS = {link_id for link_id, _ in SCREEN_ITEMS[:-3]}
# The registers a clinician's number is from, as the referral shows it ("GMC 7012345").
PROFESSIONAL_REGISTERS = {
    "https://fhir.hl7.org.uk/Id/gmc-number": "GMC",
    "https://fhir.hl7.org.uk/Id/nmc-number": "NMC",
    "https://fhir.hl7.org.uk/Id/hcpc-number": "HCPC",
    "https://fhir.hl7.org.uk/Id/gphc-number": "GPhC",
}
# The answer each of the screen's other questions takes.
_ANSWER_TYPES = {
    "heart-rate-medication": "valueBoolean",
    "medication-notes": "valueString",
    "risk-tier": "valueCoding",
}
CONSENT_FIELDS = {
    ConsentPurpose.REFERRAL: "consent_referral",
    ConsentPurpose.SHARE_PROGRESS: "consent_share_outcomes",
    ConsentPurpose.EVALUATION: "consent_research",
}


@dataclass
class InboundReferral:
    """What the message asks for: the API's draft body, and where each answer came from."""

    bundle_identifier: tuple[str, str]
    header_id: str
    draft: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    fallback: str = "Bundle"
    # The screen's answers that ticked an exclusion, by exclusion code: a refusal for one names it.
    exclusion_items: dict[str, str] = field(default_factory=dict)
    ubrn: str = ""
    # Where each exclusion of the safety screen was answered.
    exclusion_answers: dict[str, str] = field(default_factory=dict)
    # Who refers: the practice's ODS code and the clinician, each with the element it came from.
    requester_ods: tuple[str, str] | None = None
    clinician_name: str = ""
    clinician_registration: str = ""

    def path_of(self, key: str) -> str:
        """The element an error about draft field `key` ("patient.date_of_birth") points at."""
        while key:
            if key in self.where:
                return self.where[key]
            key = key.rpartition(".")[0]
        return self.fallback


def _fhirpath(location: tuple[Any, ...]) -> str:
    path = "Bundle"
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and not part[:1].isupper():
            path += f".{part}"
    return path


def _validate(body: Any) -> None:
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(400, [Issue(STRUCTURE, "Send a FHIR Bundle of type message.", ("Bundle",))])
    try:
        Bundle.model_validate(body)
    except PydanticError as error:
        issues = [
            Issue(STRUCTURE, f"{problem['msg']}", (_fhirpath(tuple(problem["loc"])),))
            for problem in error.errors()[:20]
        ]
        raise FhirError(400, issues) from error
    except (TypeError, ValueError) as error:
        raise FhirError(400, [Issue(STRUCTURE, str(error), ("Bundle",))]) from error


class _Entries:
    """The Bundle's entries, found by type and by reference."""

    def __init__(self, body: dict) -> None:
        self.entries = [
            (index, entry.get("resource") or {}, entry.get("fullUrl", ""))
            for index, entry in enumerate(body.get("entry") or [])
        ]

    def of_type(self, resource_type: str) -> list[tuple[str, dict]]:
        return [
            (f"Bundle.entry[{index}].resource", resource)
            for index, resource, _ in self.entries
            if resource.get("resourceType") == resource_type
        ]

    def resolve(self, reference: dict | None) -> tuple[str, dict] | None:
        target = (reference or {}).get("reference", "")
        if not target:
            return None
        for index, resource, full_url in self.entries:
            typed = f"{resource.get('resourceType')}/{resource.get('id')}"
            if target in (full_url, typed) or (full_url and full_url.endswith("/" + target)):
                return f"Bundle.entry[{index}].resource", resource
        return None


def _refuse(code: str, diagnostics: str, path: str, status: int = 422) -> FhirError:
    return FhirError(status, [Issue(code, diagnostics, (path,))])


def _header(entries: _Entries, body: dict) -> tuple[str, dict, str]:
    first = entries.entries[0] if entries.entries else None
    if first is None or first[1].get("resourceType") != "MessageHeader":
        raise _refuse(STRUCTURE, "A message starts with its MessageHeader.", "Bundle.entry[0]", 400)
    header = first[1]
    base = "Bundle.entry[0].resource"
    event = header.get("eventCoding") or {}
    if event.get("system") != BARS_MESSAGE_EVENTS or event.get("code") != REQUEST_EVENT:
        raise _refuse(
            VALUE,
            f"This server takes the BaRS event {REQUEST_EVENT} ({BARS_MESSAGE_EVENTS}).",
            f"{base}.eventCoding",
        )
    if not header.get("id"):
        raise _refuse(REQUIRED, "The MessageHeader needs an id (the response names it).", base)
    return base, header, header["id"]


def _service_request(entries: _Entries, header: dict, header_path: str) -> tuple[str, dict]:
    for focus in header.get("focus") or []:
        found = entries.resolve(focus)
        if found and found[1].get("resourceType") == "ServiceRequest":
            return found
    requests = entries.of_type("ServiceRequest")
    if len(requests) != 1:
        raise _refuse(
            REQUIRED,
            "The MessageHeader's focus must be the one ServiceRequest in the message.",
            f"{header_path}.focus",
        )
    return requests[0]


def _reference_id(reference: dict | None, resource_type: str, system: str) -> str | None:
    """An id from a literal reference ("Location/<id>") or a logical one (our identifier)."""
    reference = reference or {}
    literal: str = reference.get("reference", "")
    if literal.startswith(f"{resource_type}/"):
        return literal.split("/", 1)[1]
    identifier = reference.get("identifier") or {}
    if identifier.get("system") == system and identifier.get("value"):
        return str(identifier["value"])
    return None


class _Reader:
    def __init__(self, body: dict) -> None:
        self.body = body
        self.entries = _Entries(body)
        identifier = body.get("identifier") or {}
        if not identifier.get("value"):
            raise _refuse(
                REQUIRED,
                "The Bundle needs an identifier: it makes a resend safe (the same identifier "
                "is answered once).",
                "Bundle.identifier",
                400,
            )
        if body.get("type") != "message":
            raise _refuse(VALUE, "Send a Bundle of type message.", "Bundle.type", 400)
        header_path, header, header_id = _header(self.entries, body)
        self.result = InboundReferral(
            bundle_identifier=(identifier.get("system", ""), str(identifier["value"])),
            header_id=header_id,
        )
        self.sr_path, self.sr = _service_request(self.entries, header, header_path)
        self.result.fallback = self.sr_path

    def note(self, key: str, path: str, value: Any = None, *, set_value: bool = True) -> None:
        self.result.where[key] = path
        if set_value:
            parent = self.result.draft
            *parents, name = key.split(".")
            for part in parents:
                parent = parent.setdefault(part, {})
            parent[name] = value

    # --- Patient ---------------------------------------------------------------------------

    def patient(self) -> None:
        found = self.entries.resolve(self.sr.get("subject"))
        if found is None or found[1].get("resourceType") != "Patient":
            raise _refuse(
                REQUIRED,
                "The ServiceRequest's subject must be the Patient in the message.",
                f"{self.sr_path}.subject",
            )
        path, patient = found
        self.note("patient", path, {})
        for index, identifier in enumerate(patient.get("identifier") or []):
            if identifier.get("system") == NHS_NUMBER:
                self.note(
                    "patient.nhs_number",
                    f"{path}.identifier[{index}].value",
                    identifier.get("value"),
                )
                break
        else:
            self.result.where["patient.nhs_number"] = f"{path}.identifier"
        names = patient.get("name") or []
        index, name = next(
            ((i, n) for i, n in enumerate(names) if n.get("use") == "official"),
            (0, names[0]) if names else (0, {}),
        )
        self.note(
            "patient.given_name", f"{path}.name[{index}].given", " ".join(name.get("given") or [])
        )
        self.note("patient.family_name", f"{path}.name[{index}].family", name.get("family", ""))
        if "birthDate" in patient:
            self.note("patient.date_of_birth", f"{path}.birthDate", patient["birthDate"])
        else:
            self.result.where["patient.date_of_birth"] = f"{path}.birthDate"
        if "gender" in patient:
            self.note(
                "patient.sex",
                f"{path}.gender",
                SEX_OF_GENDER.get(patient["gender"], patient["gender"]),
            )
        else:
            self.result.where["patient.sex"] = f"{path}.gender"
        addresses = patient.get("address") or []
        index = next((i for i, a in enumerate(addresses) if a.get("postalCode")), 0)
        address = addresses[index] if addresses else {}
        self.note(
            "patient.postcode", f"{path}.address[{index}].postalCode", address.get("postalCode", "")
        )
        methods = []
        for index, point in enumerate(patient.get("telecom") or []):
            system = point.get("system")
            if system in ("phone", "email") and system not in methods:
                methods.append(system)
                self.note(
                    f"patient.{system}", f"{path}.telecom[{index}].value", point.get("value", "")
                )
        if address.get("line"):
            methods.append("post")
        self.note("patient.contact_methods", f"{path}.telecom", methods)
        interpreter = next(
            (
                (i, e)
                for i, e in enumerate(patient.get("extension") or [])
                if e.get("url") == INTERPRETER_REQUIRED
            ),
            None,
        )
        if interpreter is not None:
            self.note(
                "patient.interpreter_needed",
                f"{path}.extension[{interpreter[0]}].valueBoolean",
                bool(interpreter[1].get("valueBoolean")),
            )
        languages = patient.get("communication") or []
        if languages:
            language = languages[0].get("language") or {}
            codings = language.get("coding") or [{}]
            text = language.get("text") or codings[0].get("display") or codings[0].get("code", "")
            self.note("patient.interpreter_language", f"{path}.communication[0].language", text)

    # --- ServiceRequest --------------------------------------------------------------------

    def service_request(self) -> None:
        path, request = self.sr_path, self.sr
        reasons = [
            coding.get("code", "")
            for concept in request.get("reasonCode") or []
            for coding in concept.get("coding") or []
            if coding.get("system") == SNOMED
        ]
        self.note("reasons", f"{path}.reasonCode", reasons)
        priority = request.get("priority", "routine")
        self.note(
            "priority",
            f"{path}.priority",
            Priority.ROUTINE if priority == "routine" else Priority.URGENT,
        )
        for index, identifier in enumerate(request.get("identifier") or []):
            if identifier.get("system") == UBRN:
                value = str(identifier.get("value", "")).replace(" ", "")
                where = f"{path}.identifier[{index}].value"
                if not (value.isdigit() and len(value) == 12):
                    raise _refuse(VALUE, "An e-RS UBRN is 12 digits.", where)
                self.result.ubrn = value
        self.requester()
        notes = [note.get("text", "") for note in request.get("note") or [] if note.get("text")]
        if notes:
            self.note("relevant_history", f"{path}.note", "\n\n".join(notes))
        programme = None
        for index, performer in enumerate(request.get("performer") or []):
            found = _reference_id(performer, "HealthcareService", portal_system("Id/programme"))
            if found:
                programme = found
                self.note("programme", f"{path}.performer[{index}]", found)
        if programme is None:
            self.result.where["programme"] = f"{path}.performer"
        locations = request.get("locationReference") or []
        facility = _reference_id(
            locations[0] if locations else None, "Location", portal_system("Id/facility")
        )
        if facility:
            self.note("preferred_facility", f"{path}.locationReference[0]", facility)
        else:
            self.result.where["preferred_facility"] = f"{path}.locationReference"
            if programme is not None:
                raise _refuse(
                    REQUIRED,
                    "Name the leisure centre the patient prefers (a Location of the programme).",
                    f"{path}.locationReference",
                )

    def requester(self) -> None:
        """The referring organisation (its ODS code, checked against the client's own in
        `process.py`) and clinician, from ServiceRequest.requester: an Organization, a
        Practitioner or a PractitionerRole, by identifier or by reference into the message."""
        where = f"{self.sr_path}.requester"
        requester = self.sr.get("requester") or {}
        found = self.entries.resolve(requester)
        if found is None:
            self._requester_organisation(requester, where)
            return
        path, resource = found
        kind = resource.get("resourceType")
        if kind == "Organization":
            self._requester_organisation(resource, path, identifiers=True)
        elif kind == "Practitioner":
            self._clinician(resource)
        elif kind == "PractitionerRole":
            organisation = resource.get("organization") or {}
            target = self.entries.resolve(organisation)
            if target is not None:
                self._requester_organisation(target[1], target[0], identifiers=True)
            else:
                self._requester_organisation(organisation, f"{path}.organization")
            practitioner = self.entries.resolve(resource.get("practitioner"))
            if practitioner is not None:
                self._clinician(practitioner[1])

    def _requester_organisation(
        self, source: dict, path: str, *, identifiers: bool = False
    ) -> None:
        found = source.get("identifier") or {}
        candidates = found if isinstance(found, list) else [found]
        for index, identifier in enumerate(candidates):
            if identifier.get("system") == ODS_ORGANISATION and identifier.get("value"):
                at = (
                    f"{path}.identifier[{index}].value"
                    if identifiers
                    else f"{path}.identifier.value"
                )
                self.result.requester_ods = (str(identifier["value"]), at)
                return

    def _clinician(self, practitioner: dict) -> None:
        names = practitioner.get("name") or []
        if names:
            name = names[0]
            text = name.get("text") or " ".join(
                [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
            )
            self.result.clinician_name = " ".join(text.split())[:200]
        for identifier in practitioner.get("identifier") or []:
            register = PROFESSIONAL_REGISTERS.get(identifier.get("system", ""))
            if register and identifier.get("value"):
                self.result.clinician_registration = f"{register} {identifier['value']}"[:30]
                return

    # --- Supporting information ------------------------------------------------------------

    def _supporting(self, resource_type: str) -> list[tuple[str, dict]]:
        return self.entries.of_type(resource_type)

    def blood_pressure(self) -> None:
        for path, observation in self._supporting("Observation"):
            codes = {
                c.get("code")
                for c in (observation.get("code") or {}).get("coding") or []
                if c.get("system") == LOINC
            }
            readings = []
            if BP_PANEL[0] in codes:
                readings = [
                    (f"{path}.component[{i}]", component)
                    for i, component in enumerate(observation.get("component") or [])
                ]
            elif codes & {BP_SYSTOLIC[0], BP_DIASTOLIC[0]}:
                readings = [(path, observation)]
            for where, reading in readings:
                reading_codes = {
                    c.get("code") for c in (reading.get("code") or {}).get("coding") or []
                }
                value = (reading.get("valueQuantity") or {}).get("value")
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                for code, field_name in (
                    (BP_SYSTOLIC[0], "bp_systolic"),
                    (BP_DIASTOLIC[0], "bp_diastolic"),
                ):
                    if code in reading_codes:
                        self.note(field_name, f"{where}.valueQuantity.value", value)
            if readings and "effectiveDateTime" in observation:
                self.note(
                    "bp_measured_on",
                    f"{path}.effectiveDateTime",
                    str(observation["effectiveDateTime"])[:10],
                )

    def safety_screen(self) -> None:
        canonical = safety_screen_canonical()
        screens = [
            (path, response)
            for path, response in self._supporting("QuestionnaireResponse")
            if str(response.get("questionnaire", "")).split("|")[0] == canonical
        ]
        if not screens:
            missing = f"{self.sr_path}.supportingInfo"
            for name in ("exclusions_present", "heart_rate_medication", "risk_tier"):
                self.result.where[name] = missing
            return
        path, response = screens[0]
        exclusions: list[str] = []
        answered = False
        seen: set[str] = set()
        answer_paths: dict[str, str] = {}
        for name in ("heart_rate_medication", "risk_tier"):
            self.result.where[name] = f"{path}.item"
        for index, item in enumerate(response.get("item") or []):
            link_id = item.get("linkId", "")
            answer = (item.get("answer") or [{}])[0]
            where = f"{path}.item[{index}]"
            kind = _ANSWER_TYPES.get(link_id, "valueBoolean" if link_id in EXCLUSION_ITEMS else "")
            if not kind:
                raise _refuse(
                    VALUE,
                    f"{link_id!r} is not a question of {canonical}.",
                    f"{where}.linkId",
                )
            if kind not in answer:
                raise _refuse(
                    VALUE,
                    f"Answer {link_id!r} with {kind}.",
                    f"{where}.answer[0].{kind}",
                )
            value = answer[kind]
            if link_id in EXCLUSION_ITEMS:
                answered = True
                seen.add(link_id)
                answer_paths[link_id] = f"{where}.answer[0].valueBoolean"
                if value is True:
                    exclusions.append(link_id)
                    self.result.exclusion_items[link_id] = f"{where}.answer[0].valueBoolean"
            elif link_id == "heart-rate-medication":
                self.note("heart_rate_medication", f"{where}.answer[0].valueBoolean", value)
            elif link_id == "medication-notes":
                self.note("medication_notes", f"{where}.answer[0].valueString", value)
            else:
                self.note("risk_tier", f"{where}.answer[0].valueCoding", value.get("code", ""))
        if answered:
            unanswered = sorted(EXCLUSION_ITEMS - seen)
            if unanswered:
                raise _refuse(
                    REQUIRED,
                    "Answer every question of the safety screen (true or false): "
                    f"{', '.join(unanswered)} is not answered.",
                    f"{path}.item",
                )
            self.note("exclusions_present", f"{path}.item", exclusions)
            self.result.exclusion_answers = dict(answer_paths)
        else:
            self.result.where["exclusions_present"] = f"{path}.item"

    def blood_pressure_against_screen(self) -> None:
        """A reading of 180/100 or more with the screen answering the BP exclusion false is the
        contradiction the browser's safety screen refuses too: told in the message's terms, at
        the reading over the limit and at the answer. Answered true, the services decide, as in
        the browser (a programme that lists the exclusion refuses the patient)."""
        draft = self.result.draft
        systolic, diastolic = draft.get("bp_systolic"), draft.get("bp_diastolic")
        fields = ClinicalDetailsForm.base_fields
        readings = {"bp_systolic": systolic, "bp_diastolic": diastolic}
        for name, value in readings.items():
            # An IntegerField with both bounds set (`base_fields` are typed as plain `Field`s).
            bounds = cast(forms.IntegerField, fields[name])
            low, high = cast(int, bounds.min_value), cast(int, bounds.max_value)
            if not isinstance(value, int) or not low <= value <= high:
                return  # out of range: the clinical details form says so
        systolic, diastolic = cast(int, systolic), cast(int, diastolic)  # both checked above
        code = Exclusion.RESTING_BP_180_100
        answer = self.result.exclusion_answers.get(code.value)
        if answer is None or code.value in draft.get("exclusions_present", []):
            return  # unanswered (submission says so), or answered true: the services decide
        if not bp_is_excluded(systolic, diastolic):
            return
        over = [
            self.result.where[name]
            for name, value, limit in (
                ("bp_systolic", systolic, BP_EXCLUSION_LIMIT[0]),
                ("bp_diastolic", diastolic, BP_EXCLUSION_LIMIT[1]),
            )
            if value >= limit
        ]
        raise FhirError(
            422,
            [
                Issue(
                    BUSINESS_RULE,
                    f"The resting blood pressure {systolic}/{diastolic} mmHg is 180/100 or "
                    f"higher, but the safety screen answers {code.value} false: answer it true "
                    "(the patient cannot then go to a programme that excludes it), or correct "
                    "the reading.",
                    (*over, answer),
                )
            ],
        )

    def consents(self) -> None:
        purposes = {purpose.value for purpose in ConsentPurpose}
        system = portal_system("CodeSystem/consent-purpose")
        for name in CONSENT_FIELDS.values():
            self.result.where[name] = "Bundle.entry"
        for path, consent in self._supporting("Consent"):
            provision = consent.get("provision") or {}
            codes = [
                c.get("code")
                for c in [
                    *(provision.get("purpose") or []),
                    *(
                        coding
                        for category in consent.get("category") or []
                        for coding in category.get("coding") or []
                    ),
                ]
                if c.get("system") == system and c.get("code") in purposes
            ]
            if not codes:
                raise _refuse(
                    VALUE,
                    f"Say what the consent is for: provision.purpose from {system} "
                    f"({', '.join(sorted(purposes))}).",
                    f"{path}.provision.purpose",
                )
            given = (
                consent.get("status") == "active" and provision.get("type", "permit") == "permit"
            )
            for code in codes:
                self.note(CONSENT_FIELDS[ConsentPurpose(code)], f"{path}.provision.type", given)


def read_message(body: Any) -> InboundReferral:
    """The message's answers, or a FhirError naming what is wrong with it (nothing is stored)."""
    _validate(body)
    reader = _Reader(body)
    reader.patient()
    reader.service_request()
    reader.blood_pressure()
    reader.safety_screen()
    reader.consents()
    reader.blood_pressure_against_screen()
    return reader.result
