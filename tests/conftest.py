"""Personas and small factories shared by every test.

Personas, and what each may do:
- technician: inspection and scan work, signs those off; opens a catalogued reel's inspection
- restorer: repair work; colorist: grading; sound: merge
- supervisor / supervisor2: approve or return signed-off work (never their own); chair screenings
- archivist: storage work; imports inventories
- outsider: logged in, holds no role: sees nothing (403)
"""
from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

from archive.models import Collection, Reel, Title
from workflow import transitions as t
from workflow.models import Stage, StageRun
from workflow.roles import Role

PERSONAS = {
    "technician": [Role.TECHNICIAN],
    "restorer": [Role.RESTORER],
    "colorist": [Role.COLORIST],
    "sound": [Role.SOUND],
    "supervisor": [Role.SUPERVISOR],
    "supervisor2": [Role.SUPERVISOR],
    "archivist": [Role.ARCHIVIST],
    "outsider": [],
}
WORKER = {Stage.INSPECTION: "technician", Stage.SCAN: "technician", Stage.REPAIR: "restorer",
          Stage.GRADING: "colorist", Stage.MERGE: "sound", Stage.SCREENING: "supervisor",
          Stage.STORAGE: "archivist"}
PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return [f"database: {db['ENGINE']} {db.get('HOST') or ''} {db['NAME']}",
            f"jobs backend: {settings.JOBS_BACKEND}  redis: {settings.REDIS_URL or '(none)'}"]


@pytest.fixture
def people(django_user_model, db):
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    users = {}
    for name, roles in PERSONAS.items():
        user = django_user_model.objects.create_user(name, password=PASSWORD)
        user.groups.set([groups[r] for r in roles])
        users[name] = user
    return users


def make_reel(accession: str | None = None, **fields) -> Reel:
    n = next(_numbers)
    collection, _ = Collection.objects.get_or_create(name="Test collection")
    title, _ = Title.objects.get_or_create(collection=collection, name=f"Film {n}", year=1925)
    defaults = dict(gauge="35", element="print", base="nitrate", frame_rate=Decimal("24"))
    defaults.update(fields)
    return Reel.objects.create(accession=accession or f"T-{n:05d}", title=title, **defaults)


INSPECTION = {"shrinkage_pct": Decimal("0.80"), "vinegar_level": 1, "mould": "none", "tears": 1,
              "perforation_damage": "slight", "brittleness": "none", "warp": "none",
              "splice_count": 3, "cleaning_method": "roller", "solvent": "", "machine": "",
              "repairs": "", "notes": "ok"}


def tiny_scan() -> Path:
    """A two-frame DPX sequence under the first ingest root (written once per test)."""
    from fixtures.frames import write_sequence

    folder = Path(settings.INGEST_ROOTS[0]) / "tiny"
    if not folder.exists():
        write_sequence(folder, [1, 2], width=16, height=8)
    return folder


def do_work(run: StageRun, people) -> StageRun:
    worker = people[WORKER[run.stage]]
    if run.stage == Stage.INSPECTION:
        t.save_inspection(run, INSPECTION, by=worker)
    elif run.stage == Stage.SCAN:
        from workflow.runner import inline_jobs

        t.save_scan_settings(run, {"scanner": "test scanner", "resolution": "2K"}, by=worker)
        with inline_jobs():
            t.start_scan_import(run, tiny_scan(), by=worker)
    elif run.stage == Stage.REPAIR:
        from workflow.runner import inline_jobs

        t.save_repair_recipe(run, {"recipe": [{"op": "scratch"}]}, by=worker)
        with inline_jobs():
            t.start_repair(run, by=worker)
    elif run.stage == Stage.GRADING:
        from workflow.runner import inline_jobs

        t.save_grade(run, {"base": {"out_space": "rec709"}}, by=worker)
        with inline_jobs():
            t.start_grade_render(run, by=worker)
    else:
        t.save_notes(run, f"{run.stage} done", by=worker)
    run.refresh_from_db()
    return run


def signed_off_run(people, stage: str = Stage.INSPECTION, reel: Reel | None = None) -> StageRun:
    """A reel brought through real transitions to a signed-off run at `stage`."""
    reel = reel or make_reel()
    run = t.open_first_stage(reel, by=people["technician"])
    while True:
        do_work(run, people)
        run = t.sign_off(run, by=people[WORKER[run.stage]])
        if run.stage == stage:
            return run
        approver = people["supervisor2" if run.stage == Stage.SCREENING else "supervisor"]
        run = t.approve_stage(run, by=approver)


@pytest.fixture
def reel(db):
    return make_reel()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path_factory):
    """Each test writes under its own storage and ingest roots, never a shared folder."""
    base = tmp_path_factory.mktemp("roots")
    settings.STORAGE_ROOT = base / "storage"
    settings.MEDIA_ROOT = settings.STORAGE_ROOT / "media"
    ingest = base / "ingest"
    ingest.mkdir()
    settings.INGEST_ROOTS = [ingest.resolve()]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs seconds per persona; tests check roles, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
