"""Scan import: chunked jobs on real rq workers and in-process, resume after a killed worker,
refusals that write nothing, and the immutable manifest."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from archive.models import Sequence
from fixtures.frames import write_dpx, write_sequence
from restoration.inspect import UnusableSequence
from tests.conftest import make_reel, signed_off_run
from tests.integration.test_jobs import _database_url, run_rq_worker
from workflow import runner
from workflow import transitions as t
from workflow.models import Event, Job, StageRun

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def roots(tmp_path, settings):
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    settings.INGEST_ROOTS = [ingest.resolve()]
    settings.STORAGE_ROOT = (tmp_path / "storage").resolve()
    settings.INGEST_CHUNK_FRAMES = 3
    return ingest


@pytest.fixture
def scan_run(people):
    run = signed_off_run(people)
    return t.approve_stage(run, by=people["supervisor"])  # the scan stage, open


def coreutils_manifest(folder: Path, names: list[str]) -> str:
    return subprocess.run(["sha256sum", *names], cwd=folder, capture_output=True, text=True,
                          check=True).stdout


def test_in_process_import_records_the_sequence_and_its_manifest(people, roots, scan_run,
                                                                   settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    paths = write_sequence(folder, [n for n in range(1000, 1010) if n != 1004])
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert after == before  # the scanner's files are byte-identical, and nothing was added
    seq.refresh_from_db()
    assert seq.state == "problems"  # frame 1004 is missing
    assert (seq.frame_count, seq.first_frame, seq.last_frame, seq.missing) == (9, 1000, 1009,
                                                                               [1004])
    assert (seq.width, seq.height, seq.bit_depth, seq.fps) == (48, 20, 10, 24.0)
    assert Path(seq.manifest_path).read_text() == coreutils_manifest(
        folder, [p.name for p in paths])
    assert Path(seq.manifest_path).parent == settings.STORAGE_ROOT / scan_run.reel.accession \
        / "raw_scan-v1"
    assert Job.objects.filter(kind="ingest_chunk").count() == 3
    assert set(Job.objects.values_list("state", flat=True)) == {"done"}
    assert Event.objects.filter(reel=scan_run.reel, verb="scan_imported").get().digest == \
        seq.manifest_digest


def test_sign_off_binds_to_the_manifest_digest(people, roots, scan_run, settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(1, 5))
    with pytest.raises(t.TransitionRefused, match="import the scan"):
        t.sign_off(t.start_stage(scan_run, by=people["technician"]), by=people["technician"])
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    with pytest.raises(t.TransitionRefused, match="still running"):
        t.sign_off(scan_run, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    run = t.sign_off(scan_run, by=people["technician"])
    seq.refresh_from_db()
    assert seq.state == "valid"
    work = t._work(run)
    assert work["scan"]["sequence"]["manifest_digest"] == seq.manifest_digest
    assert run.signed_digest == t.current_digest(run)


def test_rq_workers_share_one_reel(people, roots, scan_run, settings):
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL is not set")
    settings.JOBS_BACKEND = "rq"
    import django_rq

    django_rq.get_connection("ingest").flushdb()
    folder = roots / "reel1"
    paths = write_sequence(folder, range(1, 14))
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    env = _worker_env(settings)
    workers = [subprocess.Popen([sys.executable, "manage.py", "rqworker", "ingest", "--burst"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=180)
        assert w.returncode == 0, err[-2000:]
    seq.refresh_from_db()
    assert seq.state == "valid", seq.error
    assert Path(seq.manifest_path).read_text() == coreutils_manifest(
        folder, [p.name for p in paths])
    chunk_workers = set(Job.objects.filter(kind="ingest_chunk").values_list("worker", flat=True))
    assert len(chunk_workers) >= 1 and all(w and not w.startswith("in-process")
                                           for w in chunk_workers)


def _worker_env(settings) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
            "STORAGE_ROOT": str(settings.STORAGE_ROOT),
            "INGEST_ROOTS": os.pathsep.join(str(r) for r in settings.INGEST_ROOTS),
            "INGEST_CHUNK_FRAMES": str(settings.INGEST_CHUNK_FRAMES),
            "DJANGO_SETTINGS_MODULE": "archive.settings"}


def test_worker_killed_half_way_then_resumed_gives_the_same_manifest(people, roots, scan_run,
                                                                      settings):
    settings.JOBS_BACKEND = "rq"
    settings.INGEST_CHUNK_FRAMES = 1
    import django_rq

    django_rq.get_connection("ingest").flushdb()
    folder = roots / "reel1"
    paths = write_sequence(folder, range(1, 31), width=256, height=128)
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    chunks = Path(seq.storage_dir) / "chunks"
    worker = subprocess.Popen([sys.executable, "manage.py", "rqworker", "ingest"], cwd=ROOT,
                              env=_worker_env(settings), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (chunks.exists() and any(chunks.glob("*.json"))):
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and the job it was running
    worker.wait(timeout=30)
    done_before = len(list(chunks.glob("*.json")))
    assert 1 <= done_before < 30
    assert not list(chunks.glob(".*.tmp"))  # nothing half-written looks complete
    seq.refresh_from_db()
    assert seq.state == "importing" and not seq.manifest_digest
    django_rq.get_connection("ingest").flushdb()  # what was queued died with this Redis view
    t.resume_scan_import(seq, by=people["technician"])
    result = run_rq_worker("ingest")
    assert result.returncode == 0, result.stderr[-2000:]
    seq.refresh_from_db()
    assert seq.state == "valid", seq.error
    assert Path(seq.manifest_path).read_text() == coreutils_manifest(
        folder, [p.name for p in paths])  # no frame missing or doubled
    resumed = Job.objects.filter(kind="ingest_chunk", state="done").count()
    assert resumed <= 30 and Event.objects.filter(verb="import_resumed").count() == 1


def test_a_chunk_run_twice_gives_the_same_result(people, roots, scan_run, settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(1, 7))
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    seq.refresh_from_db()
    chunk = sorted((Path(seq.storage_dir) / "chunks").glob("*.json"))[0]
    first = chunk.read_bytes()
    from workflow.jobs import ingest_chunk_job

    again = Job.objects.create(kind="ingest_chunk", queue="ingest", reel=seq.reel,
                               args=Job.objects.filter(kind="ingest_chunk").first().args)
    ingest_chunk_job(again.pk)
    assert chunk.read_bytes() == first


@pytest.mark.parametrize("how", ["outside", "dotdot", "symlink", "missing"])
def test_paths_outside_the_roots_are_refused_and_nothing_written(people, roots, scan_run,
                                                                  tmp_path, settings, how):
    outside = tmp_path / "elsewhere"
    write_sequence(outside, range(1, 4))
    path = {"outside": outside, "dotdot": roots / ".." / "elsewhere",
            "symlink": roots / "link", "missing": roots / "nope"}[how]
    if how == "symlink":
        (roots / "link").symlink_to(outside)
    with pytest.raises(t.TransitionRefused):
        t.start_scan_import(scan_run, path, by=people["technician"])
    assert not Sequence.objects.exists()
    assert not settings.STORAGE_ROOT.exists()
    assert StageRun.objects.get(pk=scan_run.pk).status == "open"


def test_a_frame_linked_outside_the_roots_is_refused(people, roots, scan_run, tmp_path):
    folder = roots / "reel1"
    write_sequence(folder, range(1, 3))
    secret = write_dpx(tmp_path / "secret.dpx")
    (folder / "reel.0000003.dpx").symlink_to(secret)
    with pytest.raises(t.TransitionRefused, match="outside the ingest roots"):
        t.start_scan_import(scan_run, folder, by=people["technician"])
    assert not Sequence.objects.exists()


def test_wrong_role_wrong_stage_and_ambiguous_folder(people, roots, scan_run):
    folder = roots / "reel1"
    write_sequence(folder, range(1, 3))
    with pytest.raises(t.NotAllowed):
        t.start_scan_import(scan_run, folder, by=people["restorer"])
    other = t.open_first_stage(make_reel(), by=people["technician"])
    with pytest.raises(t.TransitionRefused, match="scan stage"):
        t.start_scan_import(other, folder, by=people["technician"])
    write_sequence(folder, range(1, 3), prefix="other_", padding=4)
    with pytest.raises(UnusableSequence, match="other_####.dpx"):
        t.start_scan_import(scan_run, folder, by=people["technician"])
    assert not Sequence.objects.exists()


def test_reimport_after_return_supersedes_the_old_sequence(people, roots, scan_run, settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(1, 4))
    first = t.start_scan_import(scan_run, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    run = t.sign_off(scan_run, by=people["technician"])
    again = t.return_reel(run, by=people["supervisor"], to_stage="scan", reason="rescan gate")
    second = t.start_scan_import(again, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert first.superseded_by == second and second.superseded_at is None
    assert first.manifest_digest == second.manifest_digest  # the same frames, the same bytes
    assert Path(first.manifest_path).exists() and first.manifest_path != second.manifest_path


def test_database_refuses_to_change_an_imported_manifest(people, roots, scan_run, settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(1, 3))
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("UPDATE archive_sequence SET manifest_digest = %s WHERE id = %s",
                        ["0" * 64, seq.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Sequence.objects.filter(pk=seq.pk).update(root_path="/elsewhere")
    Sequence.objects.filter(pk=seq.pk).update(warnings=["a note"])  # other fields may change


def test_import_scan_command(people, roots, scan_run, settings):
    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(86400, 86406))
    (folder / "reel.0086402.dpx").write_bytes(b"")
    out = io.StringIO()
    call_command("import_scan", scan_run.reel.accession, str(folder), "--user", "technician",
                 "--json", stdout=out, stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert (data["frames"], data["first"], data["last"], data["state"]) == (6, 86400, 86405,
                                                                            "problems")
    assert [b["frame"] for b in data["bad_frames"]] == [86402]
    assert data["manifest"] and data["algorithms"] == ["sha256"]


@pytest.mark.parametrize("args,code", [
    (["--user", "restorer"], 2),          # wrong role
    (["--user", "ghost"], 2),             # no such user
    (["--user", "technician", "--sequence", "nothing.####.dpx"], 1),  # picks no sequence
])
def test_import_scan_command_exit_codes(people, roots, scan_run, args, code):
    folder = roots / "reel1"
    write_sequence(folder, range(1, 3))
    with pytest.raises(SystemExit) as exit_:
        call_command("import_scan", scan_run.reel.accession, str(folder), *args, "--json",
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_.value.code == code
    assert not Sequence.objects.exists()


def test_import_scan_outside_roots_exits_2(people, roots, scan_run, tmp_path):
    write_sequence(tmp_path / "out", range(1, 3))
    with pytest.raises(SystemExit) as exit_:
        call_command("import_scan", scan_run.reel.accession, str(tmp_path / "out"), "--user",
                     "technician", stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_.value.code == 2


def test_progress_counts_each_file_once(people, roots, scan_run, settings):
    from workflow.scanreport import import_progress

    settings.JOBS_BACKEND = "thread"
    folder = roots / "reel1"
    write_sequence(folder, range(1, 8))
    write_dpx(folder / "reel.000005.dpx")  # a duplicate of frame 5: 8 files for 7 frames
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    assert runner.wait_in_process(timeout=120)
    seq.refresh_from_db()
    assert import_progress(seq) == (8, 8)
    again = Job.objects.filter(kind="ingest_chunk").first()  # a chunk that ran twice (resume)
    Job.objects.create(kind="ingest_chunk", queue="ingest", state="done", args=again.args)
    assert import_progress(seq) == (8, 8)
