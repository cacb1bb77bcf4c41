"""Reasons for referral and safety exclusions: vocabulary shared by referrals and programmes.

Conditions are SNOMED CT concepts so that the FHIR interface can send them as coded reasons.
"""

from collections.abc import Iterable

from django.db import models

SNOMED_SYSTEM = "http://snomed.info/sct"


class Condition(models.TextChoices):
    HYPERTENSION = "38341003", "Hypertension"
    TYPE_2_DIABETES = "44054006", "Type 2 diabetes mellitus"
    PREDIABETES = "714628002", "Prediabetes"
    OBESITY = "414916001", "Obesity"
    OVERWEIGHT = "238131007", "Overweight"
    HYPERCHOLESTEROLAEMIA = "13644009", "Hypercholesterolaemia"
    LOW_BACK_PAIN = "279039007", "Low back pain"
    NECK_PAIN = "81680005", "Neck pain"
    KNEE_OSTEOARTHRITIS = "239873007", "Osteoarthritis of knee"
    HIP_OSTEOARTHRITIS = "239872002", "Osteoarthritis of hip"
    OSTEOPOROSIS = "64859006", "Osteoporosis"
    CHRONIC_PAIN = "82423001", "Chronic pain"
    DEPRESSION = "35489007", "Depressive disorder"
    ANXIETY = "197480006", "Anxiety disorder"
    COPD = "13645005", "Chronic obstructive pulmonary disease"
    ASTHMA = "195967001", "Asthma"
    ISCHAEMIC_HEART_DISEASE = "414545008", "Ischaemic heart disease (post-cardiac event)"
    HEART_FAILURE = "84114007", "Heart failure (stable)"
    STROKE_HISTORY = "275526006", "History of stroke"
    FALLS_RISK = "129839007", "At risk of falls"


class Exclusion(models.TextChoices):
    """Hard exclusions for exercise referral (BHF, ukactive guidance): any one stops a referral."""

    RESTING_BP_180_100 = "resting_bp_180_100", "Resting blood pressure 180/100 mmHg or higher"
    UNSTABLE_ANGINA = "unstable_angina", "Unstable angina"
    UNCONTROLLED_ARRHYTHMIA = "uncontrolled_arrhythmia", "Uncontrolled arrhythmia"
    RECENT_MI_OR_STROKE = "recent_mi_or_stroke", "Heart attack or stroke in the last 3 months"
    UNCONTROLLED_HEART_FAILURE = "uncontrolled_heart_failure", "Uncontrolled heart failure"
    ACUTE_ILLNESS = "acute_illness", "Acute systemic illness or fever"
    UNCONTROLLED_DIABETES = "uncontrolled_diabetes", "Uncontrolled diabetes (frequent hypos)"


# Resting BP (systolic, diastolic) at or over which exercise is contraindicated.
BP_EXCLUSION_LIMIT = (180, 100)


def bp_is_excluded(systolic: int | None, diastolic: int | None) -> bool:
    """Resting BP of 180 systolic or 100 diastolic or more contraindicates exercise."""
    return (systolic or 0) >= BP_EXCLUSION_LIMIT[0] or (diastolic or 0) >= BP_EXCLUSION_LIMIT[1]


def exclusions_with_bp(
    exclusions: Iterable[str], systolic: int | None, diastolic: int | None
) -> list[str]:
    """`exclusions` with the BP one added when the reading calls for it, order kept: the reading,
    not the box, decides that exclusion, so the form, the draft service and eligibility agree."""
    chosen = list(exclusions)
    if bp_is_excluded(systolic, diastolic) and Exclusion.RESTING_BP_180_100 not in chosen:
        chosen.append(Exclusion.RESTING_BP_180_100)
    return chosen
