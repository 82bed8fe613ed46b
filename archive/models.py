"""What the archive holds: collections, titles (the works) and reels with their physical facts."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Collection(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TitleQuerySet(models.QuerySet):
    def search(self, q: str) -> TitleQuerySet:
        if not q:
            return self
        return self.filter(
            Q(name__icontains=q) | Q(director__icontains=q) | Q(collection__name__icontains=q)
        )


class Title(models.Model):
    """A work: a film, one or more reels."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="titles")
    name = models.CharField(max_length=300)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    director = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    objects = TitleQuerySet.as_manager()

    class Meta:
        ordering = ["name", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "name", "year"], name="title_unique_in_collection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name


class Gauge(models.TextChoices):
    MM8 = "8", "8 mm"
    SUPER8 = "super8", "Super 8"
    MM9_5 = "9.5", "9.5 mm"
    MM16 = "16", "16 mm"
    MM35 = "35", "35 mm"
    MM70 = "70", "70 mm"


class Element(models.TextChoices):
    CAMERA_NEGATIVE = "camera_negative", "camera negative"
    DUPE_NEGATIVE = "dupe_negative", "dupe negative"
    INTERPOSITIVE = "interpositive", "interpositive"
    INTERNEGATIVE = "internegative", "internegative"
    FINE_GRAIN = "fine_grain", "fine grain master"
    PRINT = "print", "print"
    REVERSAL = "reversal", "reversal original"
    MAGNETIC_TRACK = "magnetic_track", "magnetic track"
    OPTICAL_TRACK = "optical_track", "optical track"
    OTHER = "other", "other"


class Base(models.TextChoices):
    NITRATE = "nitrate", "nitrate"
    ACETATE = "acetate", "acetate"
    POLYESTER = "polyester", "polyester"
    UNKNOWN = "unknown", "not yet identified"


class Colour(models.TextChoices):
    BW = "bw", "black and white"
    COLOUR = "colour", "colour"
    TINTED = "tinted", "tinted or toned"
    MIXED = "mixed", "mixed"


class Sound(models.TextChoices):
    SILENT = "silent", "silent"
    OPTICAL = "optical", "optical"
    MAGNETIC = "magnetic", "magnetic"
    SEPARATE = "separate", "separate sound element"


class ReelQuerySet(models.QuerySet):
    def search(self, q: str) -> ReelQuerySet:
        if not q:
            return self
        return self.filter(
            Q(accession__icontains=q) | Q(title__name__icontains=q)
            | Q(title__director__icontains=q) | Q(barcode__icontains=q)
        )


class Reel(models.Model):
    """One physical reel, and where it stands in the restoration chain.

    `current_stage`, `event_count` and `head_hash` are written only by workflow transitions:
    the last two anchor the reel's hash-chained event log (see `workflow.history`).
    """

    accession = models.CharField(max_length=64, unique=True)
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="reels")
    reel_number = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    reel_count = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    gauge = models.CharField(max_length=8, choices=Gauge.choices)
    element = models.CharField(max_length=20, choices=Element.choices)
    base = models.CharField(max_length=10, choices=Base.choices, default=Base.UNKNOWN)
    colour = models.CharField(max_length=8, choices=Colour.choices, default=Colour.BW)
    sound = models.CharField(max_length=10, choices=Sound.choices, default=Sound.SILENT)
    length_ft = models.PositiveIntegerField("length (feet)", null=True, blank=True)
    frame_rate = models.DecimalField(
        max_digits=6, decimal_places=3, default=Decimal("24"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    vault_location = models.CharField(max_length=100, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    current_stage = models.CharField(max_length=20, default="inspection", editable=False)
    event_count = models.PositiveIntegerField(default=0, editable=False)
    head_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = ReelQuerySet.as_manager()

    class Meta:
        ordering = ["accession"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reel_number__lte=models.F("reel_count")), name="reel_n_of_m"
            ),
            models.CheckConstraint(condition=Q(frame_rate__gt=0), name="reel_frame_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.accession} — {self.title.name}, reel {self.reel_number} of {self.reel_count}"

    def get_absolute_url(self) -> str:
        return reverse("workflow:reel", args=[self.pk])

    @property
    def is_nitrate(self) -> bool:
        return self.base == Base.NITRATE


class SequenceKind(models.TextChoices):
    RAW_SCAN = "raw_scan", "raw scan"
    REPAIRED = "repaired", "repaired"
    GRADED = "graded", "graded"


class SequenceState(models.TextChoices):
    IMPORTING = "importing", "importing"
    VALID = "valid", "valid"
    PROBLEMS = "problems", "imported with problems"
    FAILED = "failed", "failed"


class Sequence(models.Model):
    """A version of a reel's frames: one folder of frames plus its manifest.

    A raw scan is referenced where the scanner put it (`root_path`, under an ingest root) and
    never copied; its manifest, bag-info, proxies and analysis live under
    `STORAGE_ROOT/<accession>/<kind>-v<version>/` (`storage_dir`). Once the manifest digest is
    recorded the database refuses to change it (triggers in the migration).
    """

    reel = models.ForeignKey(Reel, on_delete=models.PROTECT, related_name="sequences")
    kind = models.CharField(max_length=12, choices=SequenceKind.choices)
    version = models.PositiveIntegerField()
    root_path = models.CharField(max_length=1000)
    pattern = models.CharField(max_length=300)
    storage_dir = models.CharField(max_length=1000)
    state = models.CharField(max_length=12, choices=SequenceState.choices,
                             default=SequenceState.IMPORTING)
    first_frame = models.BigIntegerField(null=True, blank=True)
    last_frame = models.BigIntegerField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(default=0)
    missing_count = models.PositiveIntegerField(default=0)
    missing = models.JSONField(default=list, blank=True, help_text="missing frame numbers")
    duplicates = models.JSONField(default=list, blank=True)
    bad_frames = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bit_depth = models.PositiveSmallIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    descriptor = models.JSONField(null=True, blank=True)
    transfer = models.JSONField(null=True, blank=True)
    colorimetric = models.JSONField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    start_timecode = models.CharField(max_length=11, blank=True)
    keycode_first = models.JSONField(null=True, blank=True)
    keycode_last = models.JSONField(null=True, blank=True)
    scanner = models.CharField(max_length=200, blank=True)
    creator = models.CharField(max_length=200, blank=True)
    bytes = models.BigIntegerField(default=0)
    manifest_path = models.CharField(max_length=1000, blank=True)
    manifest_algorithm = models.CharField(max_length=20, blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    proxies = models.JSONField(default=dict, blank=True,
                               help_text="thumbnails and contact sheets under storage_dir")
    analysis = models.JSONField(default=dict, blank=True,
                                help_text="the defect report; per-frame metrics in analysis.npz")
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")

    class Meta:
        ordering = ["reel", "kind", "version"]
        constraints = [
            models.UniqueConstraint(fields=["reel", "kind", "version"], name="sequence_version"),
        ]

    def __str__(self) -> str:
        return f"{self.reel.accession} {self.get_kind_display()} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def has_problems(self) -> bool:
        return bool(self.bad_frames or self.missing_count or self.duplicates)


class RepairModel(models.Model):
    """A weight file an archive placed in MODEL_DIR and registered: its digest, architecture
    and scale were read from the file itself. Nothing is ever downloaded."""

    name = models.SlugField(max_length=100, unique=True)
    file_name = models.CharField(max_length=300, help_text="path relative to MODEL_DIR")
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    arch = models.CharField(max_length=40)
    scale = models.PositiveSmallIntegerField()
    params = models.JSONField(default=dict)
    notes = models.TextField(blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.arch} x{self.scale})"
