"""Which programme-at-facility a patient can be referred to, nearest first.

There is no geocoding here: "nearest" ranks facilities that list the patient's postcode district
first, then those in the same postcode area (the letters, e.g. LS), then the rest.
"""

import re
from dataclasses import dataclass, field

from facilities.models import Facility, Programme
from facilities.postcodes import postcode_district
from facilities.selectors import offered_classes

from .eligibility import eligibility_problems


@dataclass(frozen=True)
class PlacementOption:
    programme: Programme
    facility: Facility
    distance_rank: int
    slots: tuple[str, ...] = ()
    # The programme is designed for one of the reasons the patient is referred for.
    targets_reasons: bool = False

    @property
    def key(self) -> str:
        return f"{self.programme.public_id}:{self.facility.public_id}"

    @property
    def label(self) -> str:
        return f"{self.programme.name} at {self.facility.name}"

    @property
    def hint(self) -> str:
        area = {0: "Serves the patient's area", 1: "Near the patient's area"}.get(
            self.distance_rank, "Outside the patient's area"
        )
        parts = [area, ", ".join(self.slots)]
        if self.targets_reasons:
            parts.insert(0, "Designed for the reasons you gave")
        return ". ".join(part for part in parts if part)


@dataclass
class Placements:
    options: list[PlacementOption] = field(default_factory=list)
    # Programmes the patient cannot go to, each with the plain-English reasons.
    excluded: list[tuple[Programme, list[str]]] = field(default_factory=list)


def _area(district: str) -> str:
    return re.match(r"[A-Z]+", district).group(0) if district else ""


def distance_rank(facility: Facility, patient_district: str) -> int:
    if patient_district in facility.postcode_districts or patient_district == facility.district:
        return 0
    areas = {_area(d) for d in [*facility.postcode_districts, facility.district]}
    return 1 if _area(patient_district) in areas else 2


def placements_for(referral, *, programme_public_id=None) -> Placements:
    """Every active programme-at-facility, split into those the patient may and may not go to;
    only one programme's when checking a placement chosen in it (`programme_public_id`)."""
    classes = (
        offered_classes()
        .select_related("programme", "facility")
        .order_by("programme__name", "facility__name", "weekday", "start_time")
    )
    if programme_public_id is not None:
        classes = classes.filter(programme__public_id=programme_public_id)
    district = postcode_district(referral.patient.postcode)
    slots: dict[tuple[int, int], list[str]] = {}
    programmes: dict[int, Programme] = {}
    facilities: dict[int, Facility] = {}
    for programme_class in classes:
        key = (programme_class.programme_id, programme_class.facility_id)
        slots.setdefault(key, []).append(
            f"{programme_class.get_weekday_display()} {programme_class.start_time:%H:%M}"
        )
        programmes[programme_class.programme_id] = programme_class.programme
        facilities[programme_class.facility_id] = programme_class.facility

    result = Placements()
    problems = {pid: eligibility_problems(referral, p) for pid, p in programmes.items()}
    for (programme_id, facility_id), times in slots.items():
        if problems[programme_id]:
            continue
        facility = facilities[facility_id]
        programme = programmes[programme_id]
        result.options.append(
            PlacementOption(
                programme,
                facility,
                distance_rank(facility, district),
                tuple(times),
                targets_reasons=bool(set(programme.conditions) & set(referral.reasons)),
            )
        )
    # Programmes for the patient's conditions first, then nearest first.
    result.options.sort(
        key=lambda o: (not o.targets_reasons, o.distance_rank, o.programme.name, o.facility.name)
    )
    result.excluded = sorted(
        ((programmes[pid], reasons) for pid, reasons in problems.items() if reasons),
        key=lambda pair: pair[0].name,
    )
    return result
