"""Admin views of workflow rows are read-only: state changes go through the reel pages."""
from django.contrib import admin

from workflow.models import Event, Inspection, InspectionPhoto, Job, StageRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["reel", "seq", "verb", "stage", "actor_name", "from_state", "to_state",
                    "created_at"]
    list_filter = ["verb", "stage"]
    search_fields = ["reel__accession", "actor_name", "reason"]


@admin.register(StageRun)
class StageRunAdmin(ReadOnlyAdmin):
    list_display = ["reel", "stage", "attempt", "status", "signed_off_by", "approved_by"]
    list_filter = ["stage", "status"]
    search_fields = ["reel__accession"]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "queue", "reel", "state", "done", "total", "worker",
                    "created_at", "ended_at"]
    list_filter = ["state", "kind", "queue"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["run", "shrinkage_pct", "vinegar_level", "mould", "updated_at"]


@admin.register(InspectionPhoto)
class InspectionPhotoAdmin(ReadOnlyAdmin):
    list_display = ["pk", "inspection", "original_name", "sha256", "uploaded_by"]
