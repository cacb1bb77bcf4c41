"""Small shapes every resource module uses."""

import datetime

from django.utils import timezone


def telecom(*, phone: str = "", email: str = "", use: str = "") -> list[dict]:
    points = []
    for system, value in (("phone", phone), ("email", email)):
        if value:
            points.append({"system": system, "value": value, **({"use": use} if use else {})})
    return points


def instant(value: datetime.datetime) -> str:
    """A FHIR instant: UTC, to the second or finer, always with a zone."""
    return timezone.localtime(value, datetime.UTC).isoformat()


def meta(last_updated: datetime.datetime | None) -> dict:
    return {"meta": {"lastUpdated": instant(last_updated)}} if last_updated else {}


def coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def concept(system: str, code: str, display: str = "") -> dict:
    return {"coding": [coding(system, code, display)], **({"text": display} if display else {})}
