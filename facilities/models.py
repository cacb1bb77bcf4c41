"""What leisure operators offer: facilities, programmes and the classes that run them."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import Organisation, OrganisationKind
from accounts.validation import (
    ADDRESS_MAX,
    SHORT_NOTE_MAX,
    bounded_text_field,
    text_length_constraint,
    validate_phone_number,
    validate_single_line_text,
)
from clinical.conditions import Condition, Exclusion

from .postcodes import normalise_postcode, postcode_district, validate_postcode


class Facility(models.Model):
    """A leisure centre, gym or pool run by an operator."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="facilities",
        limit_choices_to={"kind": OrganisationKind.LEISURE_OPERATOR},
    )
    name = models.CharField(max_length=200, validators=[validate_single_line_text])
    address = bounded_text_field(ADDRESS_MAX)
    postcode = models.CharField(max_length=8, validators=[validate_postcode])
    # How patients reach the centre to change or cancel a session: on the patient's letter.
    phone = models.CharField(max_length=20, blank=True, validators=[validate_phone_number])
    email = models.EmailField(blank=True)
    accessibility_notes = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    # Outward codes ('LS6') this facility takes referrals from; routing suggests nearest first.
    postcode_districts = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="facilities_worked",
        blank=True,
        help_text="Instructors who work here see the referrals assigned to this facility.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "name"], name="facility_name_unique_per_operator"
            ),
            text_length_constraint("facility", "address", ADDRESS_MAX),
            text_length_constraint("facility", "accessibility_notes", SHORT_NOTE_MAX),
        ]
        indexes = [GinIndex(fields=["postcode_districts"], name="facility_districts_gin")]

    def __str__(self):
        return self.name

    def clean_fields(self, exclude=None):
        # Normalise before the length checks, so " ls6  2ab " is stored rather than refused.
        self.postcode = normalise_postcode(self.postcode)
        self.postcode_districts = sorted(
            {d.strip().upper() for d in self.postcode_districts if d.strip()}
        )
        super().clean_fields(exclude=exclude)

    @property
    def district(self) -> str:
        return postcode_district(self.postcode)


class Programme(models.Model):
    """An offer such as 'Exercise on referral (12 weeks)': who it is for, how it is measured."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="programmes",
        limit_choices_to={"kind": OrganisationKind.LEISURE_OPERATOR},
    )
    name = models.CharField(max_length=200, validators=[validate_single_line_text])
    description = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    conditions = ArrayField(
        models.CharField(max_length=20, choices=Condition.choices),
        default=list,
        blank=True,
        help_text="Conditions the programme is designed for (SNOMED CT).",
    )
    min_age = models.PositiveSmallIntegerField(default=16)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    exclusions = ArrayField(
        models.CharField(max_length=40, choices=Exclusion.choices),
        default=list,
        blank=True,
        help_text="Hard exclusions: a patient with any of these cannot be referred.",
    )
    duration_weeks = models.PositiveSmallIntegerField(default=12)
    planned_sessions = models.PositiveSmallIntegerField(default=24)
    dna_limit = models.PositiveSmallIntegerField(
        default=3, help_text="Consecutive missed sessions that prompt discharge."
    )
    self_directed_visits_count = models.BooleanField(
        "Self-directed visits count toward adherence",
        default=False,
        help_text="Gym check-ins and other visits outside classes count as sessions done, at "
        "most one a day and not on a day with a class attended. The first one after booking "
        "starts the programme.",
    )
    triage_sla_days = models.PositiveSmallIntegerField(
        default=5, help_text="Working days to action a submitted referral before it is overdue."
    )
    contact_attempt_limit = models.PositiveSmallIntegerField(
        default=3,
        help_text="Attempts to reach the patient before 'unable to contact' may be chosen "
        "to decline the referral.",
    )
    commissioners = models.ManyToManyField(
        Organisation,
        related_name="programmes_commissioned",
        blank=True,
        limit_choices_to={"kind": OrganisationKind.COMMISSIONER},
        help_text="Commissioners who fund this programme and see its aggregate reports.",
    )
    # [{"instrument": "gppaq", "timepoints": ["baseline", "exit", "followup_3m"]}, ...]
    outcome_schedule = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "name"], name="programme_name_unique_per_operator"
            ),
            text_length_constraint("programme", "description", SHORT_NOTE_MAX),
            models.CheckConstraint(
                condition=models.Q(max_age__isnull=True)
                | models.Q(max_age__gte=models.F("min_age")),
                name="programme_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    duration_weeks__gt=0,
                    planned_sessions__gt=0,
                    dna_limit__gt=0,
                    triage_sla_days__gt=0,
                ),
                name="programme_counts_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(contact_attempt_limit__gt=0),
                name="programme_contact_attempt_limit_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def age_is_eligible(self, age: int) -> bool:
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)


class ProgrammeClass(models.Model):
    """A programme at one facility in a weekly slot; its capacity drives the waiting list."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="classes")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(max_length=200, validators=[validate_single_line_text])
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    capacity = models.PositiveSmallIntegerField()
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="classes_taught", blank=True
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility__name", "weekday", "start_time"]
        verbose_name = "class"
        verbose_name_plural = "classes"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gt=0), name="class_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="class_weekday_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="class_duration_positive"
            ),
        ]

    def __str__(self):
        return f"{self.name} — {self.get_weekday_display()} {self.start_time:%H:%M}"

    def clean(self):
        if (
            self.programme_id
            and self.facility_id
            and self.programme.operator_id != self.facility.operator_id
        ):
            raise ValidationError(
                {"facility": "The facility must belong to the programme's operator."}
            )
