"""python manage.py register_model PATH --name NAME --user USERNAME [--json] [--notes TEXT]

PATH is a weight file already placed inside MODEL_DIR (absolute, or relative to MODEL_DIR).
It is loaded through the same code repair uses; its SHA-256, architecture and scale are
recorded. A restorer or supervisor registers. Exit 0 registered; 2 refused (a corrupt or
unknown file, outside MODEL_DIR, a name or the same weights already registered, wrong role).
"""
from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from archive.registry import RegistryError, register_model
from workflow.management.acting import acting_user
from workflow.roles import Role


class Command(BaseCommand):
    help = "Register a Real-ESRGAN-family weight file placed in MODEL_DIR."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--name", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--notes", default="")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        try:
            user = acting_user(options["user"], Role.RESTORER, Role.SUPERVISOR)
            model = register_model(options["path"], options["name"], by=user,
                                   notes=options["notes"])
        except (CommandError, RegistryError) as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": str(exc), "exit": 2}))
            self.stderr.write(str(exc))
            sys.exit(2)
        data = {"name": model.name, "file": model.file_name, "sha256": model.sha256,
                "arch": model.arch, "scale": model.scale, "params": model.params}
        if options["json"]:
            self.stdout.write(json.dumps(data))
        else:
            self.stdout.write(f"Registered {model.name}: {model.arch} x{model.scale}, "
                              f"sha256 {model.sha256}")
