"""python manage.py import_inventory FILE.csv --user USERNAME [--json]

Checks every row first; if any row is bad, reports each with its line number and imports
nothing (exit 1). Otherwise creates the collections, titles and reels and opens each reel's
inspection. Columns are documented in archive/inventory.py and the README.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from archive.inventory import parse_inventory
from archive.models import Collection, Reel, Title
from workflow.management.acting import acting_user
from workflow.roles import Role
from workflow.transitions import open_first_stage


class Command(BaseCommand):
    help = "Import reels from an inventory CSV; a bad row stops the whole file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="who is importing (archivist or supervisor)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        user = acting_user(options["user"], Role.ARCHIVIST, Role.SUPERVISOR)
        path: Path = options["file"]
        result = parse_inventory(path)
        if result.errors:
            if options["json"]:
                self.stdout.write(json.dumps({"ok": False, "imported": 0, "errors": result.errors}))
            else:
                for error in result.errors:
                    self.stderr.write(f"{path}: {error}")
            raise CommandError(f"{path}: {len(result.errors)} problem(s); nothing was imported",
                               returncode=1)
        with transaction.atomic():
            for row in result.rows:
                collection, _ = Collection.objects.get_or_create(name=row.collection)
                title, _ = Title.objects.get_or_create(
                    collection=collection, name=row.title, year=row.year,
                    defaults={"director": row.director})
                reel = Reel(title=title, **row.reel)
                reel.full_clean()
                reel.save()
                open_first_stage(reel, by=user)
        accessions = [r.reel["accession"] for r in result.rows]
        if options["json"]:
            self.stdout.write(json.dumps({"ok": True, "imported": len(accessions),
                                          "accessions": accessions, "errors": []}))
        else:
            self.stdout.write(f"Imported {len(accessions)} reel(s) from {path}; "
                              "each one's inspection is open.")
