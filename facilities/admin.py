from django.contrib import admin

from .models import Facility, Programme, ProgrammeClass


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["name", "operator", "postcode", "is_active"]
    list_filter = ["is_active", "operator"]
    search_fields = ["name", "postcode"]
    list_select_related = ["operator"]
    filter_horizontal = ["staff"]


class ProgrammeClassInline(admin.TabularInline):
    model = ProgrammeClass
    extra = 0
    fields = [
        "name",
        "facility",
        "weekday",
        "start_time",
        "duration_minutes",
        "capacity",
        "is_active",
    ]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "operator",
        "duration_weeks",
        "planned_sessions",
        "triage_sla_days",
        "is_active",
    ]
    list_filter = ["is_active", "operator"]
    search_fields = ["name"]
    list_select_related = ["operator"]
    filter_horizontal = ["commissioners"]
    inlines = [ProgrammeClassInline]


@admin.register(ProgrammeClass)
class ProgrammeClassAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "programme",
        "facility",
        "weekday",
        "start_time",
        "capacity",
        "is_active",
    ]
    list_filter = ["is_active", "weekday", "facility"]
    search_fields = ["name", "programme__name", "facility__name"]
    list_select_related = ["programme", "facility"]
    filter_horizontal = ["instructors"]
