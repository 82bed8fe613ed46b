"""python manage.py demo — sample people and reels spread over the chain, made through the real
transitions so that every history verifies. Running it again changes nothing.
"""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction

from archive.models import Collection, Reel, Title
from workflow import transitions as t
from workflow.models import Stage, StageRun
from workflow.photos import store_photo
from workflow.recipes import default_recipe
from workflow.roles import Role
from workflow.runner import inline_jobs, wait_in_process

PEOPLE = {
    "technician": [Role.TECHNICIAN],
    "restorer": [Role.RESTORER],
    "colorist": [Role.COLORIST],
    "sound": [Role.SOUND],
    "supervisor": [Role.SUPERVISOR],
    "supervisor2": [Role.SUPERVISOR],
    "archivist": [Role.ARCHIVIST],
}
WORKER = {Stage.INSPECTION: "technician", Stage.SCAN: "technician", Stage.REPAIR: "restorer",
          Stage.GRADING: "colorist", Stage.MERGE: "sound", Stage.SCREENING: "supervisor",
          Stage.STORAGE: "archivist"}

# accession, title, year, director, gauge, element, base, where it should end up
REELS = [
    ("DEMO-0001", "Nosferatu", 1922, "F. W. Murnau", "35", "print", "nitrate", "inspection/open"),
    ("DEMO-0002", "Nosferatu", 1922, "F. W. Murnau", "35", "print", "nitrate",
     "inspection/in_progress"),
    ("DEMO-0003", "The General", 1926, "Clyde Bruckman, Buster Keaton", "35", "dupe_negative",
     "acetate", "inspection/signed_off"),
    ("DEMO-0004", "The General", 1926, "Clyde Bruckman, Buster Keaton", "35", "dupe_negative",
     "acetate", "scan/open"),
    ("DEMO-0005", "Metropolis", 1927, "Fritz Lang", "16", "print", "acetate", "scan/open"),
    ("DEMO-0006", "Metropolis", 1927, "Fritz Lang", "16", "print", "acetate", "scan/signed_off"),
    ("DEMO-0007", "The Cabinet of Dr. Caligari", 1920, "Robert Wiene", "35", "interpositive",
     "polyester", "repair/returned"),
    ("DEMO-0008", "Sunrise", 1927, "F. W. Murnau", "35", "camera_negative", "nitrate",
     "grading/signed_off"),
    ("DEMO-0009", "Un Chien Andalou", 1929, "Luis Buñuel", "16", "print", "acetate",
     "screening/in_progress"),
    ("DEMO-0010", "The Lodger", 1927, "Alfred Hitchcock", "35", "fine_grain", "polyester",
     "preserved"),
]


def password_for(username: str) -> str:
    return f"reelkeeper-{username}"


class Command(BaseCommand):
    help = "Create demo users (one per role, two supervisors) and reels spread over the stages."

    def handle(self, *args, **options):
        users = self._people()
        collection, _ = Collection.objects.get_or_create(
            name="Demo: silent and early sound features",
            defaults={"description": "Sample reels made by the demo command (manage.py demo)."})
        made = 0
        for spec in REELS:
            if Reel.objects.filter(accession=spec[0]).exists():
                continue
            with transaction.atomic():
                self._reel(collection, users, *spec)
            made += 1
        if settings.JOBS_BACKEND == "thread":
            wait_in_process(timeout=60)
        self.stdout.write(f"Reels: {made} created, {len(REELS) - made} already there.")

    def _people(self) -> dict[str, Any]:
        User = get_user_model()
        for role in Role.values:
            Group.objects.get_or_create(name=role)
        users: dict[str, Any] = {}
        self.stdout.write("Demo people (for trying Reelkeeper only; change or remove them for real use):")
        for username, roles in PEOPLE.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password_for(username))
                user.save()
                user.groups.set(Group.objects.filter(name__in=roles))
            status = "created" if created else "exists, password left as it was"
            self.stdout.write(f"  {username:<12} password {password_for(username):<24} "
                              f"{', '.join(roles):<12} ({status})")
            users[username] = user
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True})
        if created:
            admin.set_password(password_for("admin"))
            admin.save()
        self.stdout.write(f"  {'admin':<12} password {password_for('admin'):<24} "
                          f"{'admin site':<12} ({'created' if created else 'exists'})")
        return users

    def _reel(self, collection, users, accession, name, year, director, gauge, element, base,
              target) -> None:
        title, _ = Title.objects.get_or_create(
            collection=collection, name=name, year=year, defaults={"director": director})
        reel = Reel.objects.create(
            accession=accession, title=title, gauge=gauge, element=element, base=base,
            reel_number=1, reel_count=1, length_ft=1000, frame_rate=Decimal("24"),
            vault_location=f"Vault B, shelf {accession[-2:]}", barcode=f"RK{accession[-4:]}")
        run = t.open_first_stage(reel, by=users["archivist"])
        stage_name, _, state = target.partition("/")
        while True:
            at_target = run.stage == stage_name
            worker = users[WORKER[run.stage]]
            if at_target and state == "open":
                return
            self._work(run, worker, accession)
            if at_target and state == "in_progress":
                return
            run = t.sign_off(run, by=worker, comment="demo sign-off")
            if at_target and state == "signed_off":
                return
            approver = users["supervisor2" if worker == users["supervisor"] else "supervisor"]
            if at_target and state == "returned":
                # Repair found scan problems: back to scan, rescanned, approved, repair again.
                run = t.return_reel(run, by=approver, to_stage=Stage.SCAN,
                                    reason="frames 1200-1260 out of focus: rescan that section")
                self._work(run, users["technician"], accession)
                run = t.sign_off(run, by=users["technician"], comment="rescanned")
                t.approve_stage(run, by=approver)
                return
            run = t.approve_stage(run, by=approver)
            if run is None:
                return

    def _work(self, run: StageRun, worker, accession: str) -> None:
        if run.stage == Stage.SCAN:
            t.save_scan_settings(run, {"scanner": "demo scanner", "resolution": "2K",
                                       "gate": "wet", "light_source": "LED"}, by=worker)
            with inline_jobs():
                t.start_scan_import(run, _demo_scan(accession), by=worker)
            return
        if run.stage == Stage.INSPECTION:
            t.save_inspection(run, {
                "shrinkage_pct": Decimal("0.65"), "vinegar_level": 1, "mould": "none",
                "tears": 2, "perforation_damage": "slight", "brittleness": "slight",
                "warp": "none", "splice_count": 7, "cleaning_method": "roller",
                "repairs": "two tears mended with polyester tape", "notes": "demo record",
            }, by=worker)
            if accession == "DEMO-0002":
                stored = store_photo(_test_card(accession), reel_id=run.reel_id)
                stored["caption"] = "head of the reel"
                t.attach_photo(run, stored, by=worker)
        elif run.stage == Stage.REPAIR:
            t.save_repair_recipe(run, {"recipe": default_recipe(),
                                       "notes": f"demo repair of {accession}"}, by=worker)
            with inline_jobs():
                t.start_repair(run, by=worker)
        elif run.stage == Stage.GRADING:
            t.save_grade(run, {"base": {
                "cdl": {"slope": [1.05, 1.0, 0.95], "offset": [0.0, 0.0, 0.01],
                        "power": [1.0, 1.0, 1.0], "saturation": 0.9},
                "in_transfer": "cineon", "out_space": "rec709"},
                "notes": f"demo grade of {accession}"}, by=worker)
            with inline_jobs():
                t.start_grade_render(run, by=worker)
        else:
            t.save_notes(run, f"demo {run.stage} work for {accession}", by=worker)


def _test_card(label: str) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (640, 480), (40, 40, 40))
    draw = ImageDraw.Draw(im)
    for i, colour in enumerate([(200, 200, 200), (200, 200, 0), (0, 200, 200), (0, 200, 0),
                                (200, 0, 200), (200, 0, 0), (0, 0, 200)]):
        draw.rectangle([i * 91, 0, i * 91 + 90, 300], fill=colour)
    draw.text((20, 400), f"{label} reel can", fill=(255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return SimpleUploadedFile(f"{label}-can.jpg", buf.getvalue(), content_type="image/jpeg")


def _demo_scan(accession: str, frames: int = 12) -> Path:
    """A small 10-bit DPX sequence under the first ingest root, written once per reel, for the
    demo's scan imports: a soft gradient with a moving bar, grain, a flicker, a vertical
    scratch and a speck of dirt in every third frame, so a repair has something to do."""
    import numpy as np
    import OpenImageIO as oiio

    folder = Path(settings.INGEST_ROOTS[0]) / "demo-scans" / accession
    if folder.exists():
        return folder
    folder.mkdir(parents=True)
    h, w = 120, 160
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(sum(map(ord, accession)))
    for i in range(frames):
        codes = (200 + 500 * x / w + 100 * y / h)[..., None].repeat(3, axis=2)
        codes[:, (i * 13) % w: (i * 13) % w + 6] = 900
        codes = codes * (1.0 + 0.08 * (-1) ** i) + rng.normal(0, 8, codes.shape)
        codes[:, 101 + i % 3:103 + i % 3] += 120  # a scratch along the film, wandering
        if i % 3 == 1:
            sy, sx = rng.integers(10, h - 10), rng.integers(10, w - 10)
            codes[sy:sy + 3, sx:sx + 3] = 60  # dirt, in this frame only
        codes = np.clip(np.rint(codes), 0, 1023).astype(np.uint32)
        pixels = ((codes << 6) | (codes >> 4)).astype(np.uint16)
        path = folder / f"{accession}.{86400 + i:07d}.dpx"
        spec = oiio.ImageSpec(w, h, 3, "uint16")
        spec.attribute("oiio:BitsPerSample", 10)
        spec.attribute("dpx:FrameRate", 24.0)
        spec.attribute("dpx:Transfer", "Printing density")
        out = oiio.ImageOutput.create(str(path))
        out.open(str(path), spec)
        out.write_image(pixels)
        out.close()
    return folder
