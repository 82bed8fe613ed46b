"""How a reel moves: stage runs, the append-only event log, background jobs, inspection work."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from archive.models import Reel
from workflow.roles import Role, has_role


class Stage(models.TextChoices):
    INSPECTION = "inspection", "inspection & cleaning"
    SCAN = "scan", "scan"
    REPAIR = "repair", "repair"
    GRADING = "grading", "grading"
    MERGE = "merge", "merge"
    SCREENING = "screening", "screening"
    STORAGE = "storage", "storage"

    @classmethod
    def chain(cls) -> list[Stage]:
        return list(cls)

    @property
    def index(self) -> int:
        return Stage.chain().index(self)

    @property
    def next(self) -> Stage | None:
        chain = Stage.chain()
        i = chain.index(self)
        return chain[i + 1] if i + 1 < len(chain) else None

    @property
    def role(self) -> str:
        return STAGE_ROLE[self]


PRESERVED = "preserved"

# Who does each stage's work and signs it off.
STAGE_ROLE: dict[str, str] = {
    Stage.INSPECTION: Role.TECHNICIAN,
    Stage.SCAN: Role.TECHNICIAN,
    Stage.REPAIR: Role.RESTORER,
    Stage.GRADING: Role.COLORIST,
    Stage.MERGE: Role.SOUND,
    Stage.SCREENING: Role.SUPERVISOR,
    Stage.STORAGE: Role.ARCHIVIST,
}


class Status(models.TextChoices):
    NOT_STARTED = "not_started", "not started"
    OPEN = "open", "open"
    IN_PROGRESS = "in_progress", "in progress"
    SIGNED_OFF = "signed_off", "signed off"
    APPROVED = "approved", "approved"
    RETURNED = "returned", "returned"


ACTIVE = (Status.OPEN, Status.IN_PROGRESS, Status.SIGNED_OFF)


class StageRunQuerySet(models.QuerySet):
    def active(self) -> StageRunQuerySet:
        return self.filter(status__in=ACTIVE)

    def awaiting_approval(self) -> StageRunQuerySet:
        """The supervisors' queue: signed-off runs, the longest waiting first."""
        return self.filter(status=Status.SIGNED_OFF).order_by("signed_off_at", "pk")

    def assigned_to(self, user: Any) -> StageRunQuerySet:
        """Open or in-progress runs of the stages whose work this user's roles cover."""
        from workflow.roles import roles_of

        stages = [stage for stage, role in STAGE_ROLE.items() if role in roles_of(user)]
        return self.filter(status__in=(Status.OPEN, Status.IN_PROGRESS), stage__in=stages)


class StageRun(models.Model):
    """One attempt at one stage of one reel. Rows are never reused: a return opens a new run."""

    reel = models.ForeignKey(Reel, on_delete=models.PROTECT, related_name="runs")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="the stage's work record, until its own form")

    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_digest = models.CharField(max_length=64, blank=True)
    sign_off_comment = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_to = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    return_reason = models.TextField(blank=True)

    objects = StageRunQuerySet.as_manager()

    class Meta:
        ordering = ["reel", "pk"]
        constraints = [
            # The database itself keeps a reel in one place at a time.
            models.UniqueConstraint(
                fields=["reel"],
                condition=Q(status__in=["open", "in_progress", "signed_off"]),
                name="one_active_run_per_reel",
            ),
            models.UniqueConstraint(fields=["reel", "stage", "attempt"], name="run_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reel.accession} {self.stage} #{self.attempt} ({self.status})"

    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)

    @property
    def role(self) -> str:
        return STAGE_ROLE[self.stage]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_editable(self) -> bool:
        """Work may be recorded while open or in progress; a sign-off locks it."""
        return self.status in (Status.OPEN, Status.IN_PROGRESS)

    @property
    def closed_at(self):
        return self.approved_at or self.returned_at

    def can_be_worked_by(self, user: Any) -> bool:
        return has_role(user, self.role)

    def can_be_approved_by(self, user: Any) -> bool:
        return (
            self.status == Status.SIGNED_OFF
            and has_role(user, Role.SUPERVISOR)
            and self.signed_off_by_id != user.pk
        )

    def can_be_returned_by(self, user: Any) -> bool:
        return self.status == Status.SIGNED_OFF and has_role(user, Role.SUPERVISOR)

    def can_be_withdrawn_by(self, user: Any) -> bool:
        return self.status == Status.SIGNED_OFF and self.signed_off_by_id == user.pk


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("events are never updated")

    def delete(self) -> Any:
        raise AppendOnlyError("events are never deleted")


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an event through the application."""


class Event(models.Model):
    """One change to a reel: who, what, from, to, why, when. Append-only and hash-chained.

    `seq` counts the reel's events from 1; `hash` covers this row's facts and `prev_hash`, the
    hash of the reel's event before it. The reel row keeps the count and the head hash, so
    `verify_history` can tell a changed, inserted or deleted row. Triggers in the database
    refuse UPDATE and DELETE on this table too.
    """

    reel = models.ForeignKey(Reel, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    run = models.ForeignKey(
        StageRun, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    stage = models.CharField(max_length=20, blank=True)
    verb = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    digest = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["reel", "seq"]
        constraints = [models.UniqueConstraint(fields=["reel", "seq"], name="event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.reel_id}#{self.seq} {self.verb} by {self.actor_name or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise AppendOnlyError(f"event {self.pk} is part of the history and cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"event {self.pk} is part of the history and cannot be deleted")


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class JobQuerySet(models.QuerySet):
    def unfinished(self) -> JobQuerySet:
        return self.filter(state__in=(JobState.QUEUED, JobState.RUNNING))


class Job(models.Model):
    """A background job as the pages see it, whichever runner carries it out."""

    kind = models.CharField(max_length=50)
    queue = models.CharField(max_length=20, default="default")
    args = models.JSONField(default=dict, blank=True)
    reel = models.ForeignKey(
        Reel, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    run = models.ForeignKey(
        StageRun, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    rq_id = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)


def sequence_facts(seq: Any) -> dict[str, Any] | None:
    """What a sign-off binds of a sequence: where it is and its manifest's digest."""
    return None if seq is None else {
        "id": seq.pk, "root_path": seq.root_path, "pattern": seq.pattern,
        "manifest_digest": seq.manifest_digest, "state": seq.state}


class Level(models.TextChoices):
    NONE = "none", "none"
    SLIGHT = "slight", "slight"
    MODERATE = "moderate", "moderate"
    SEVERE = "severe", "severe"


class CleaningMethod(models.TextChoices):
    NONE = "none", "not cleaned"
    HAND = "hand", "by hand"
    ROLLER = "roller", "particle transfer roller"
    ULTRASONIC = "ultrasonic", "ultrasonic"
    MACHINE = "machine", "cleaning machine (solvent)"
    OTHER = "other", "other"


class Inspection(models.Model):
    """The inspection and cleaning record of one inspection run."""

    run = models.OneToOneField(StageRun, on_delete=models.PROTECT, related_name="inspection")
    shrinkage_pct = models.DecimalField(
        "shrinkage (%)", max_digits=4, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    vinegar_level = models.PositiveSmallIntegerField(
        "vinegar syndrome (A-D strip level 0-3)", null=True, blank=True,
        validators=[MaxValueValidator(3)],
    )
    mould = models.CharField(max_length=10, choices=Level.choices, default=Level.NONE)
    tears = models.PositiveIntegerField(default=0)
    perforation_damage = models.CharField(max_length=10, choices=Level.choices, default=Level.NONE)
    brittleness = models.CharField(max_length=10, choices=Level.choices, default=Level.NONE)
    warp = models.CharField(max_length=10, choices=Level.choices, default=Level.NONE)
    splice_count = models.PositiveIntegerField(default=0)
    cleaning_method = models.CharField(
        max_length=12, choices=CleaningMethod.choices, default=CleaningMethod.NONE
    )
    solvent = models.CharField(max_length=100, blank=True)
    machine = models.CharField(max_length=100, blank=True)
    repairs = models.TextField("repairs made", blank=True)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    WORK_FIELDS = (
        "shrinkage_pct", "vinegar_level", "mould", "tears", "perforation_damage", "brittleness",
        "warp", "splice_count", "cleaning_method", "solvent", "machine", "repairs", "notes",
    )

    def __str__(self) -> str:
        return f"inspection of {self.run}"

    def work(self) -> dict[str, Any]:
        """The recorded facts as plain values, the input of the sign-off digest."""
        facts: dict[str, Any] = {}
        for name in self.WORK_FIELDS:
            value = getattr(self, name)
            facts[name] = None if value is None else str(value)
        facts["photos"] = [p.sha256 for p in self.photos.order_by("pk")]
        return facts


class InspectionPhoto(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="photos")
    image = models.FileField(upload_to="photos/", max_length=300)  # named by workflow.photos
    thumbnail = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64)
    ext = models.CharField(max_length=5)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    caption = models.CharField(max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.caption or self.original_name or self.sha256[:12]


class ScanRecord(models.Model):
    """The scan stage's work: scanner settings and the imported sequence."""

    class Gate(models.TextChoices):
        DRY = "dry", "dry gate"
        WET = "wet", "wet gate"

    run = models.OneToOneField(StageRun, on_delete=models.PROTECT, related_name="scan")
    scanner = models.CharField(max_length=200, blank=True)
    resolution = models.CharField(max_length=50, blank=True, help_text="e.g. 2K, 4K, 6.5K")
    gate = models.CharField(max_length=4, choices=Gate.choices, default=Gate.DRY)
    light_source = models.CharField(max_length=100, blank=True)
    settings_notes = models.TextField("other settings", blank=True)
    sequence = models.ForeignKey("archive.Sequence", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    WORK_FIELDS = ("scanner", "resolution", "gate", "light_source", "settings_notes")

    def __str__(self) -> str:
        return f"scan record of {self.run}"

    def work(self) -> dict[str, Any]:
        facts: dict[str, Any] = {name: getattr(self, name) for name in self.WORK_FIELDS}
        facts["sequence"] = sequence_facts(self.sequence)
        return facts


class DerivedRecord(models.Model):
    """The part of a stage's record that writes a new Sequence version: the sequence it reads
    (`source`), the one it made (`sequence`) and the worker's notes."""

    notes = models.TextField(blank=True)
    source = models.ForeignKey("archive.Sequence", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    sequence = models.ForeignKey("archive.Sequence", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def derived_facts(self) -> dict[str, Any]:
        return {"notes": self.notes, "source": sequence_facts(self.source),
                "sequence": sequence_facts(self.sequence)}


class RepairRecord(DerivedRecord):
    """The repair stage's work: the recipe, the raw scan it applies to and what it produced.

    `recipe` is the checked list of steps with every default filled in; an `upscale` step names
    a registered model (`archive.RepairModel.name`), never a path. The run's resolved recipe
    (with each model's file and SHA-256) is written beside the output when a full run starts.
    """

    run = models.OneToOneField(StageRun, on_delete=models.PROTECT, related_name="repair")
    recipe = models.JSONField(default=list, blank=True)

    WORK_FIELDS = ("recipe", "notes")

    def __str__(self) -> str:
        return f"repair record of {self.run}"

    def work(self) -> dict[str, Any]:
        return {"recipe": self.recipe, **self.derived_facts()}


class GradeRecord(DerivedRecord):
    """The grading stage's work: the reel's base grade, its shots and what the render made.

    `base` holds the reel-level grade: ``{"cdl": {slope, offset, power, saturation} | None,
    "lut": {"name", "sha256", "file"} | None, "interpolation", "in_transfer", "out_space"}``.
    A shot with its own CDL uses it in place of the base CDL; the LUT and the colour-space
    conversion are the reel's.
    """

    run = models.OneToOneField(StageRun, on_delete=models.PROTECT, related_name="grade")
    base = models.JSONField(default=dict, blank=True)

    WORK_FIELDS = ("base", "notes")

    def __str__(self) -> str:
        return f"grade record of {self.run}"

    def work(self) -> dict[str, Any]:
        return {"base": self.base, **self.derived_facts(),
                "shots": [s.work() for s in self.shots.order_by("first_frame")]}


class Shot(models.Model):
    """A run of frames graded alike: from the scene cuts found by the analysis, or an EDL."""

    class Origin(models.TextChoices):
        CUTS = "cuts", "scene cuts"
        EDL = "edl", "EDL"
        WHOLE = "whole", "whole reel"

    record = models.ForeignKey(GradeRecord, on_delete=models.CASCADE, related_name="shots")
    number = models.PositiveIntegerField()
    first_frame = models.BigIntegerField()
    last_frame = models.BigIntegerField()
    origin = models.CharField(max_length=8, choices=Origin.choices)
    name = models.CharField(max_length=200, blank=True, help_text="the EDL's clip name or event")
    cdl = models.JSONField(null=True, blank=True, help_text="this shot's CDL; none: the base one")
    note = models.TextField(blank=True, help_text="what the EDL asked that grading cannot do")

    class Meta:
        ordering = ["record", "first_frame"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="shot_number_unique"),
            models.CheckConstraint(condition=Q(last_frame__gte=models.F("first_frame")),
                                   name="shot_frames_in_order"),
        ]

    def __str__(self) -> str:
        return f"shot {self.number} ({self.first_frame}-{self.last_frame})"

    def work(self) -> dict[str, Any]:
        return {"number": self.number, "frames": [self.first_frame, self.last_frame],
                "origin": self.origin, "name": self.name, "cdl": self.cdl}
