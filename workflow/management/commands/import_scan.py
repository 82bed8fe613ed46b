"""python manage.py import_scan ACCESSION PATH [--sequence PATTERN] --user USERNAME [--json]
[--no-wait]

The same import as the scan stage's page: the reel's scan stage must be open or in progress and
the user a technician; PATH must lie under INGEST_ROOTS. Waits for the import's jobs and shows
progress (on stderr) unless --no-wait. Prints one JSON object with --json.
Exit status: 0 the sequence was read (its problems are in the report), 1 it cannot be used (no
sequence, several and none picked, no readable frame), 2 refused (bad arguments, a path outside
the roots, the wrong stage or role); a refusal writes nothing.
"""
from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from archive.models import Reel, SequenceState
from restoration.inspect import UnusableSequence
from workflow.management.acting import acting_user
from workflow.models import StageRun
from workflow.roles import Role
from workflow.scanreport import import_progress, sequence_report
from workflow.transitions import TransitionRefused, start_scan_import


class Command(BaseCommand):
    help = "Import a DPX/TIFF scan into a reel's scan stage."

    def add_arguments(self, parser):
        parser.add_argument("accession")
        parser.add_argument("path")
        parser.add_argument("--sequence", metavar="PATTERN", default=None)
        parser.add_argument("--user", required=True)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--no-wait", action="store_true")

    def handle(self, *args, **options):
        try:
            user = acting_user(options["user"], Role.TECHNICIAN)
        except CommandError as exc:
            return self._refuse(options, str(exc))
        reel = Reel.objects.filter(accession=options["accession"]).first()
        if reel is None:
            return self._refuse(options, f"no reel with accession {options['accession']!r}")
        run = StageRun.objects.filter(reel=reel).active().first()
        if run is None:
            return self._refuse(options, f"{reel.accession} has no open stage")
        try:
            sequence = start_scan_import(run, options["path"], options["sequence"], by=user)
        except TransitionRefused as exc:
            return self._refuse(options, str(exc))
        except UnusableSequence as exc:
            self._emit(options, {"error": str(exc), "exit": 1})
            self.stderr.write(str(exc))
            sys.exit(1)
        if not options["no_wait"]:
            sequence = self._wait(sequence)
        report = sequence_report(sequence)
        self._emit(options, report, human=True)
        if sequence.state == SequenceState.FAILED:
            sys.exit(1)

    def _wait(self, sequence):
        last = None
        while True:
            sequence.refresh_from_db()
            if sequence.state != SequenceState.IMPORTING:
                return sequence
            done, total = import_progress(sequence)
            line = f"{sequence.pattern}: {done} of {total} files read"
            if line != last:
                self.stderr.write(line)
                last = line
            time.sleep(0.5)

    def _emit(self, options, data, human=False):
        if options["json"]:
            self.stdout.write(json.dumps(data))
        elif human:
            self.stdout.write(f"{data['accession']}: {data['pattern']} {data['state']}, "
                              f"{data['frames']} frames {data['first']}-{data['last']}, "
                              f"{len(data['missing'])} missing, {len(data['bad_frames'])} bad")
            for bad in data["bad_frames"]:
                self.stdout.write(f"  BAD frame {bad['frame']} ({bad['file']}): {bad['error']}")
            if data["manifest"]:
                self.stdout.write(f"  manifest {data['manifest']} ({data['manifest_digest']})")

    def _refuse(self, options, message):
        self._emit(options, {"error": message, "exit": 2})
        self.stderr.write(message)
        sys.exit(2)
