"""python manage.py reel_status [ACCESSION] [--json]

One reel as an object, or every reel as an array when none is named:
{"accession", "title", "current_stage", "stages": [{"stage", "state", "signed_off_by",
"approved_by", "opened", "closed"}]}, the seven stages in chain order, each showing its latest
run (`not_started` with nulls when never opened); times are ISO 8601 UTC.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from archive.models import Reel
from workflow.models import Stage, StageRun, Status


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def reel_status(reel: Reel) -> dict[str, Any]:
    latest: dict[str, StageRun] = {}
    for run in reel.runs.all():  # prefetched in pk order: the last one of a stage wins
        latest[run.stage] = run
    stages = []
    for stage in Stage.chain():
        run = latest.get(stage.value)
        stages.append({
            "stage": stage.value,
            "state": run.status if run else Status.NOT_STARTED.value,
            "signed_off_by": run.signed_off_by.username if run and run.signed_off_by else None,
            "approved_by": run.approved_by.username if run and run.approved_by else None,
            "opened": iso(run.opened_at) if run else None,
            "closed": iso(run.closed_at) if run else None,
        })
    return {"accession": reel.accession, "title": reel.title.name,
            "current_stage": reel.current_stage, "stages": stages}


class Command(BaseCommand):
    help = "Where a reel (or every reel) stands in the chain."

    def add_arguments(self, parser):
        parser.add_argument("accession", nargs="?")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        reels = Reel.objects.select_related("title").prefetch_related(Prefetch(
            "runs", queryset=StageRun.objects.select_related("signed_off_by", "approved_by")
            .order_by("pk"))).order_by("accession")
        accession = options["accession"]
        if accession:
            reel = reels.filter(accession=accession).first()
            if reel is None:
                raise CommandError(f"no reel with accession {accession!r}", returncode=1)
            data: Any = reel_status(reel)
        else:
            data = [reel_status(r) for r in reels.iterator(chunk_size=500)]
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        for item in [data] if accession else data:
            self.stdout.write(f"{item['accession']}  {item['title']}  -> {item['current_stage']}")
            for s in item["stages"]:
                who = ", ".join(filter(None, [
                    s["signed_off_by"] and f"signed off by {s['signed_off_by']}",
                    s["approved_by"] and f"approved by {s['approved_by']}"]))
                self.stdout.write(f"    {s['stage']:<11} {s['state']:<12} {who}")
