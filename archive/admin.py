from django.contrib import admin

from archive.models import Collection, Reel, RepairModel, Title

admin.site.site_header = "Reelkeeper administration"
admin.site.site_title = "Reelkeeper administration"


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
    list_display = ["name", "year", "director", "collection"]
    list_filter = ["collection"]
    search_fields = ["name", "director"]


@admin.register(Reel)
class ReelAdmin(admin.ModelAdmin):
    list_display = ["accession", "title", "reel_number", "reel_count", "gauge", "element", "base",
                    "current_stage"]
    list_filter = ["current_stage", "gauge", "base", "element"]
    search_fields = ["accession", "barcode", "title__name"]
    readonly_fields = ["current_stage", "event_count", "head_hash"]
    autocomplete_fields = ["title"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A reel with a history is evidence; the PROTECT foreign keys refuse it anyway.
        return False


@admin.register(RepairModel)
class RepairModelAdmin(admin.ModelAdmin):
    """Registered through `manage.py register_model` (which loads and checks the file);
    here they can be looked at and annotated."""

    list_display = ["name", "arch", "scale", "sha256", "file_name", "registered_by",
                    "registered_at"]
    readonly_fields = ["name", "file_name", "sha256", "size", "arch", "scale", "params",
                       "registered_by", "registered_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
