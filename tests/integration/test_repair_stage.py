"""The repair stage: recipes checked by name, previews before and after, full runs split into
chunks on the `gpu` queue (in-process and on real rq workers), resume after a worker killed
half-way with byte-identical output, provenance, and a raw scan that is never changed."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from django.urls import reverse

from archive.models import Sequence
from archive.registry import register_model
from fixtures.frames import write_picture_dpx
from restoration.repair.networks import SRVGGNetCompact
from tests.conftest import PASSWORD, signed_off_run
from tests.integration.test_jobs import _database_url
from workflow import transitions as t
from workflow.models import Event, Job, RepairRecord
from workflow.runner import inline_jobs

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
CLASSICAL = [{"op": "deflicker", "radius": 2}, {"op": "dust"}, {"op": "denoise"}]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(folder: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in sorted(folder.iterdir()) if p.suffix == ".dpx"}


def write_film(folder: Path, frames: range, width: int = 64, height: int = 48) -> None:
    """A textured picture drifting right, flickering, with a speck in one frame."""
    rng = np.random.default_rng(7)
    base = rng.random((height, width + len(frames) + 8, 3)) * 0.5 + 0.25
    for k, n in enumerate(frames):
        picture = base[:, k:k + width] * (1.0 + 0.1 * (-1) ** k)
        if k == 3:
            picture[10:13, 20:23] = 0.98  # dust
        write_picture_dpx(folder / f"film.{n:07d}.dpx", picture)


@pytest.fixture
def roots(tmp_path, settings):
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    settings.INGEST_ROOTS = [ingest.resolve()]
    settings.STORAGE_ROOT = (tmp_path / "storage").resolve()
    settings.MODEL_DIR = (tmp_path / "models").resolve()
    settings.MODEL_DIR.mkdir()
    return ingest


def repair_run_for(people, folder: Path):
    """A reel brought through inspection and a real import of `folder` to an open repair."""
    scan = t.approve_stage(signed_off_run(people), by=people["supervisor"])
    tech = people["technician"]
    t.save_scan_settings(scan, {"scanner": "test"}, by=tech)
    with inline_jobs():
        t.start_scan_import(scan, folder, by=tech)
    scan = t.sign_off(scan, by=tech)
    return t.approve_stage(scan, by=people["supervisor"])


@pytest.fixture
def film(roots):
    folder = roots / "film"
    write_film(folder, range(1001, 1013))
    return folder


@pytest.fixture
def repair(people, film):
    return repair_run_for(people, film)


def tiny_model(settings, name: str = "tiny-x2") -> Path:
    torch.manual_seed(3)
    net = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2)
    path = Path(settings.MODEL_DIR) / f"{name}.pth"
    torch.save({"params_ema": net.state_dict()}, path)
    return path


def cli_repair(recipe, source: Path, out: Path) -> None:
    spec = out.parent / f"{out.name}.recipe.json"
    spec.write_text(json.dumps(recipe))
    r = subprocess.run([sys.executable, "-m", "restoration", "repair", "--recipe", str(spec),
                        str(source), str(out), "--device", "cpu"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


# Recipes ---------------------------------------------------------------------------------

def test_recipe_is_checked_defaults_filled_and_refusals_name_the_step(people, repair, settings):
    restorer = people["restorer"]
    record = t.save_repair_recipe(repair, {"recipe": [{"op": "dust"}], "notes": "first try"},
                                  by=restorer)
    assert record.recipe == [{"op": "dust", "threshold": 0.06, "grow": 1}]
    with pytest.raises(t.TransitionRefused, match="sharpen"):
        t.save_repair_recipe(repair, {"recipe": [{"op": "sharpen"}]}, by=restorer)
    with pytest.raises(t.TransitionRefused, match="speed"):
        t.save_repair_recipe(repair, {"recipe": [{"op": "dust", "speed": 1}]}, by=restorer)
    with pytest.raises(t.TransitionRefused, match="'esrgan'"):
        t.save_repair_recipe(repair, {"recipe": [{"op": "upscale", "model": "esrgan"}]},
                             by=restorer)
    with pytest.raises(t.NotAllowed):
        t.save_repair_recipe(repair, {"recipe": [{"op": "dust"}]}, by=people["technician"])
    assert RepairRecord.objects.get(run=repair).recipe == [{"op": "dust", "threshold": 0.06,
                                                      "grow": 1}]
    assert Event.objects.filter(run=repair, verb="edited").count() == 1


def test_sign_off_needs_a_finished_repair(people, repair):
    t.save_repair_recipe(repair, {"recipe": CLASSICAL}, by=people["restorer"])
    with pytest.raises(t.TransitionRefused, match="run the repair"):
        t.sign_off(repair, by=people["restorer"])


# Full runs -------------------------------------------------------------------------------

def test_in_process_run_makes_a_new_version_with_manifest_provenance_and_labels(
        people, repair, film, settings, tmp_path, client):
    register_model(tiny_model(settings), "tiny-x2", by=people["restorer"])
    recipe = CLASSICAL + [{"op": "upscale", "model": "tiny-x2", "tile": 24}]
    settings.REPAIR_CHUNK_FRAMES = 5
    raw_before = {p.name: sha(p) for p in film.iterdir()}
    restorer = people["restorer"]
    t.save_repair_recipe(repair, {"recipe": recipe}, by=restorer)
    with inline_jobs():
        seq = t.start_repair(repair, by=restorer)
    seq.refresh_from_db()
    assert seq.kind == "repaired" and seq.version == 1 and seq.state == "valid", seq.error
    assert (seq.width, seq.height, seq.bit_depth, seq.frame_count) == (128, 96, 16, 12)
    frames = Path(seq.root_path)
    assert frames.is_relative_to(settings.STORAGE_ROOT)
    # the manifest is the coreutils sha256sum of the output, in frame order
    names = sorted(p.name for p in frames.iterdir())
    expected = subprocess.run(["sha256sum", *names], cwd=frames, capture_output=True,
                              text=True, check=True).stdout
    assert Path(seq.manifest_path).read_text() == expected
    assert {p.name: sha(p) for p in film.iterdir()} == raw_before  # the scan is only read
    after = Job.objects.filter(kind__in=("make_proxies", "analyze_scan"), args__sequence=seq.pk)
    assert sorted(after.values_list("state", flat=True)) == ["done", "done"]
    seq.refresh_from_db()
    assert seq.analysis["frames"] == 12 and seq.proxies["thumbnails"]
    prov = json.loads((Path(seq.storage_dir) / "provenance.json").read_text())
    assert prov["recipe"][-1]["model_name"] == "tiny-x2"
    assert prov["models"][0]["sha256"] == sha(Path(settings.MODEL_DIR) / "tiny-x2.pth")
    assert prov["tiling"]["tile"] == 24 and prov["devices"] == ["cpu"]
    assert prov["invents_detail"] == ["upscale"] and prov["chunks"] == 3
    assert prov["code"].startswith("reelkeeper") and prov["frame_count"] == 12
    bag = (Path(seq.storage_dir) / "bag-info.txt").read_text()
    assert "Invents-Detail: upscale" in bag and sha(Path(seq.storage_dir) / "provenance.json") in bag
    # the same bytes as the command line over the whole folder in one go
    cli_repair([*CLASSICAL, {"op": "upscale", "model": str(Path(settings.MODEL_DIR) /
                                                          "tiny-x2.pth"), "tile": 24}],
               film, tmp_path / "cli")
    assert digests(frames) == digests(tmp_path / "cli")
    # the page labels what invents detail; sign-off binds the manifest
    client.login(username="restorer", password=PASSWORD)
    page = client.get(reverse("workflow:reel", args=[repair.reel_id])).content.decode()
    assert "invents detail: upscale" in page and "provenance.json" in page
    run = t.sign_off(repair, by=restorer)
    assert seq.manifest_digest in json.dumps(t._work(run))
    assert Event.objects.filter(verb="repair_finished", digest=seq.manifest_digest).exists()
    record = client.get(reverse("workflow:run", args=[repair.reel_id, repair.pk])).content.decode()
    assert "tile=24" in record and "threshold=0.06" in record and seq.manifest_digest[:8] in record
    client.login(username="supervisor", password=PASSWORD)
    queue = client.get(reverse("workflow:queue")).content.decode()
    row = queue[queue.index(f'id="run-{repair.pk}"'):]
    assert "upscale" in row and "invents detail: upscale" in row and "12 frames" in row


def test_a_changed_model_file_fails_the_chunk_by_name(people, repair, settings):
    path = tiny_model(settings)
    register_model(path, "tiny-x2", by=people["restorer"])
    t.save_repair_recipe(repair, {"recipe": [{"op": "upscale", "model": "tiny-x2"}]},
                         by=people["restorer"])
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(t.TransitionRefused, match="changed or replaced"):
        t.start_repair(repair, by=people["restorer"])
    assert not Sequence.objects.filter(kind="repaired").exists()


def test_a_running_repair_is_not_started_twice_nor_its_recipe_changed(people, repair,
                                                                      settings):
    restorer = people["restorer"]
    with pytest.raises(t.TransitionRefused, match="save a recipe"):
        t.start_repair(repair, by=restorer)
    t.save_repair_recipe(repair, {"recipe": CLASSICAL}, by=restorer)
    settings.JOBS_BACKEND = "rq"  # queued, and no worker yet: the repair stays running
    settings.REPAIR_CHUNK_FRAMES = 5
    import django_rq

    django_rq.get_connection("gpu").flushdb()
    seq = t.start_repair(repair, by=restorer)
    assert seq.state == "importing"
    with pytest.raises(t.TransitionRefused, match="already running"):
        t.start_repair(repair, by=restorer)
    with pytest.raises(t.TransitionRefused, match="under way"):
        t.save_repair_recipe(repair, {"recipe": [{"op": "dust"}]}, by=restorer)
    with pytest.raises(t.TransitionRefused, match="still running"):
        t.sign_off(repair, by=restorer)
    with pytest.raises(t.NotAllowed):
        t.resume_render(seq, by=people["technician"])
    assert Job.objects.filter(kind="repair_chunk").count() == 3
    django_rq.get_connection("gpu").flushdb()


def _worker_env(settings) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
            "STORAGE_ROOT": str(settings.STORAGE_ROOT), "MODEL_DIR": str(settings.MODEL_DIR),
            "INGEST_ROOTS": os.pathsep.join(str(r) for r in settings.INGEST_ROOTS),
            "DJANGO_SETTINGS_MODULE": "archive.settings"}


def test_gpu_worker_killed_half_way_then_resumed_gives_byte_identical_frames(
        people, roots, settings, tmp_path):
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL is not set")
    folder = roots / "long"
    write_film(folder, range(1, 25), width=192, height=144)
    run = repair_run_for(people, folder)
    restorer = people["restorer"]
    t.save_repair_recipe(run, {"recipe": CLASSICAL}, by=restorer)
    settings.JOBS_BACKEND = "rq"
    settings.REPAIR_CHUNK_FRAMES = 2
    import django_rq

    django_rq.get_connection("gpu").flushdb()
    seq = t.start_repair(run, by=restorer)
    chunks = Path(seq.storage_dir) / "chunks"
    worker = subprocess.Popen([sys.executable, "manage.py", "rqworker", "gpu"], cwd=ROOT,
                              env=_worker_env(settings), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (chunks.exists() and any(chunks.glob("*.json"))):
        time.sleep(0.05)
    time.sleep(0.3)  # into the next chunk: frames of it may be written, its result not
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and the chunk it was running
    worker.wait(timeout=30)
    done_before = len(list(chunks.glob("*.json")))
    assert 1 <= done_before < 12
    seq.refresh_from_db()
    assert seq.state == "importing" and not seq.manifest_digest
    # a frame write cut off half-way leaves a hidden temporary file beside the frames
    (Path(seq.root_path) / ".film.0000023.0a1b2c3d4e5f.part.dpx").write_bytes(b"half a frame")
    django_rq.get_connection("gpu").flushdb()
    t.resume_render(seq, by=restorer)
    r = subprocess.run([sys.executable, "manage.py", "rqworker", "gpu", "cpu", "--burst"],
                       cwd=ROOT, env=_worker_env(settings), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    seq.refresh_from_db()
    assert seq.state == "valid", seq.error
    cli_repair(CLASSICAL, folder, tmp_path / "reference")
    reference = digests(tmp_path / "reference")
    assert digests(Path(seq.root_path)) == reference  # byte-identical, none missing or doubled
    assert sorted(p.name for p in Path(seq.root_path).iterdir()) == sorted(reference)
    manifest = Path(seq.manifest_path).read_text().splitlines()
    assert len(manifest) == 24 == len({line.split()[1] for line in manifest})
    redone = Job.objects.filter(kind="repair_chunk", state="done").count()
    assert redone >= 12 - done_before
    workers = set(Job.objects.filter(kind="repair_chunk", state="done")
                  .values_list("worker", flat=True))
    assert workers and not any(w.startswith("in-process") for w in workers)


# Preview and charts -----------------------------------------------------------------------

def test_preview_shows_before_and_after_with_charts(people, repair, client, settings):
    restorer = people["restorer"]
    t.save_repair_recipe(repair, {"recipe": CLASSICAL}, by=restorer)
    client.login(username="restorer", password=PASSWORD)
    url = reverse("workflow:repair_preview", args=[repair.reel_id, repair.pk])
    with inline_jobs():
        response = client.post(url, {"first": 1002, "last": 1006})
    assert response.status_code == 302
    job = Job.objects.get(kind="repair_preview")
    assert job.state == "done", job.error
    page = client.get(reverse("workflow:reel", args=[repair.reel_id])).content.decode()
    assert 'id="before-after"' in page and "before-1002.jpg" in page and "after-1006.jpg" in page
    assert page.count('class="series before"') >= 4 and 'class="series after"' in page
    image = client.get(reverse("workflow:preview_file", args=[repair.reel_id, job.pk,
                                                              "after-1004.jpg"]))
    assert image.status_code == 200 and b"".join(image.streaming_content)[:2] == b"\xff\xd8"
    comparison = json.loads((Path(settings.STORAGE_ROOT) / repair.reel.accession /
                             "repair-previews" / f"job-{job.pk}" / "comparison.json").read_text())
    before = {r["frame"]: r for r in comparison["metrics"]["before"]}
    after = {r["frame"]: r for r in comparison["metrics"]["after"]}
    assert before[1004]["dust"] > after[1004]["dust"]  # the speck planted in frame 1004 is gone
    flicker_before = np.std([before[f]["mean_luma"] for f in range(1002, 1007)])
    flicker_after = np.std([after[f]["mean_luma"] for f in range(1002, 1007)])
    assert flicker_after < flicker_before / 2
    # too long a range, and frames the scan lacks, are refused with the reason on the page
    response = client.post(url, {"first": 1, "last": 1000})
    assert response.status_code == 400 and "1 to 48 frames" in response.content.decode()
    response = client.post(url, {"first": 5000, "last": 5001})
    assert response.status_code == 400 and "no frame there" in response.content.decode()
    client.login(username="technician", password=PASSWORD)
    assert client.post(url, {"first": 1002, "last": 1003}).status_code == 403


def test_scan_charts_and_a_clicked_frame(people, repair, client, settings):
    client.login(username="restorer", password=PASSWORD)
    page = client.get(reverse("workflow:reel", args=[repair.reel_id])).content.decode()
    assert 'data-metric="dust"' in page and 'data-first="1001"' in page
    source = t.current_raw_scan(repair.reel)
    frame = client.get(reverse("workflow:sequence_frame", args=[repair.reel_id, source.pk, 1005]))
    assert frame.status_code == 200 and b"".join(frame.streaming_content)[:2] == b"\xff\xd8"
    missing = client.get(reverse("workflow:sequence_frame", args=[repair.reel_id, source.pk, 9]))
    assert missing.status_code == 404


def test_no_network_library_is_loaded_before_a_worker_forks():
    code = ("import sys, django; django.setup(); import rq, django_rq, workflow.jobs, "
            "workflow.runner, workflow.transitions, workflow.repair_views, workflow.views; "
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "archive.settings"},
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_two_gpu_workers_share_a_reel_and_every_chunk_uses_the_runs_tile(people, roots,
                                                                         settings, tmp_path):
    folder = roots / "shared"
    write_film(folder, range(1, 13), width=48, height=32)
    run = repair_run_for(people, folder)
    register_model(tiny_model(settings), "tiny-x2", by=people["restorer"])
    recipe = [{"op": "dust"}, {"op": "upscale", "model": "tiny-x2"}]  # tile chosen by the run
    t.save_repair_recipe(run, {"recipe": recipe}, by=people["restorer"])
    settings.JOBS_BACKEND = "rq"
    settings.REPAIR_CHUNK_FRAMES = 2
    import django_rq

    django_rq.get_connection("gpu").flushdb()
    seq = t.start_repair(run, by=people["restorer"])
    workers = [subprocess.Popen([sys.executable, "manage.py", "rqworker", "gpu", "cpu",
                                 "--burst"], cwd=ROOT, env=_worker_env(settings),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err[-2000:]
    seq.refresh_from_db()
    assert seq.state == "valid", seq.error
    storage = Path(seq.storage_dir)
    tile = json.loads((storage / "tiling.json").read_text())["tile"]
    chunk_tiles = {json.loads(p.read_text())["provenance"]["tiling"]["tile"]
                   for p in (storage / "chunks").glob("*.json")}
    assert chunk_tiles == {tile}
    assert json.loads((storage / "provenance.json").read_text())["tiling"]["tile"] == tile
    model = Path(settings.MODEL_DIR) / "tiny-x2.pth"
    cli_repair([{"op": "dust"}, {"op": "upscale", "model": str(model), "tile": tile or 0}],
               folder, tmp_path / "reference")
    # (tile 0 asks the command line to choose; for these small frames it chooses the same)
    assert digests(Path(seq.root_path)) == digests(tmp_path / "reference")
    done = Job.objects.filter(kind="repair_chunk", state="done")
    assert done.count() == 6 and all(not w.startswith("in-process")
                                     for w in done.values_list("worker", flat=True))


def test_unreadable_scan_frames_are_left_out_and_listed_as_missing(people, roots, settings,
                                                                   tmp_path):
    import shutil

    folder = roots / "damaged"
    write_film(folder, range(1001, 1011))
    bad = folder / "film.0001005.dpx"
    bad.write_bytes(bad.read_bytes()[:3000])  # cut short: the import marks it bad
    run = repair_run_for(people, folder)
    source = t.current_raw_scan(run.reel)
    assert [b["frame"] for b in source.bad_frames] == [1005]
    t.save_repair_recipe(run, {"recipe": CLASSICAL}, by=people["restorer"])
    settings.REPAIR_CHUNK_FRAMES = 3
    with inline_jobs():
        seq = t.start_repair(run, by=people["restorer"])
    seq.refresh_from_db()
    assert seq.state == "problems" and seq.missing == [1005] and seq.frame_count == 9
    assert bad.stat().st_size == 3000  # the scan is only read
    # the same bytes as the command line over the readable frames alone: context reaches
    # across the unreadable frame as if it were missing
    readable = tmp_path / "readable"
    readable.mkdir()
    for p in folder.iterdir():
        if p != bad:
            shutil.copy(p, readable / p.name)
    cli_repair(CLASSICAL, readable, tmp_path / "reference")
    assert digests(Path(seq.root_path)) == digests(tmp_path / "reference")
    assert Event.objects.filter(verb="repair_started", reason__contains="1 unreadable").exists()
