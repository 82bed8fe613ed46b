"""python manage.py verify_history [--json] [ACCESSION ...]

Walks every reel's hash-chained event log. Exit 0 and {"ok": true, ...} when every chain holds;
exit 1 and {"ok": false, "reels_checked", "events_checked", "problems": [{"accession",
"event", "problem"}]} when a row was changed, inserted or deleted behind the application's back.
`event` is the event's number in its reel's history, or null for a problem with the reel's
record of its history as a whole.
"""
from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from archive.models import Reel
from workflow.history import verify_history


class Command(BaseCommand):
    help = "Check that no reel's history was changed, inserted into or cut."

    def add_arguments(self, parser):
        parser.add_argument("accessions", nargs="*")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        reels = Reel.objects.all()
        if options["accessions"]:
            reels = reels.filter(accession__in=options["accessions"])
        result = verify_history(reels)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            for p in result.problems:
                where = f"event {p.event}" if p.event is not None else "history"
                self.stdout.write(f"{p.accession} {where}: {p.problem}")
            verdict = "OK" if result.ok else f"{len(result.problems)} PROBLEM(S)"
            self.stdout.write(f"{verdict}: {result.reels_checked} reels, "
                              f"{result.events_checked} events checked")
        if not result.ok:
            sys.exit(1)
