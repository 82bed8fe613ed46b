"""The scan stage's pages: choosing a folder, importing, and what the approver sees."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from archive.models import Sequence
from fixtures.frames import write_sequence
from tests.conftest import signed_off_run
from workflow import transitions as t
from workflow.runner import inline_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_run(people):
    return t.approve_stage(signed_off_run(people), by=people["supervisor"])


@pytest.fixture
def folder():
    root = Path(settings.INGEST_ROOTS[0])
    path = root / "vendor" / "reel7"
    write_sequence(path, [n for n in range(100, 110) if n != 104])
    (path / "reel.0000106.dpx").write_bytes(b"not a dpx at all" * 10)
    return path


def url(name, run):
    return reverse(f"workflow:{name}", args=[run.reel_id, run.pk])


def test_folders_are_listed_from_the_ingest_roots(client, people, scan_run, folder):
    client.force_login(people["technician"])
    page = client.get(scan_run.reel.get_absolute_url()).content.decode()
    assert 'id="import-form"' in page
    assert f'value="{folder}"' in page and f'value="{folder.parent}"' in page
    assert "Save scanner settings" in page


def test_import_from_the_page_and_the_approver_sees_the_problems(client, people, scan_run,
                                                                 folder):
    client.force_login(people["technician"])
    with inline_jobs():
        response = client.post(url("import_scan", scan_run), {"folder": str(folder)})
    assert response.status_code == 302
    seq = Sequence.objects.get()
    assert (seq.state, seq.frame_count, seq.missing) == ("problems", 9, [104])
    assert [b["frame"] for b in seq.bad_frames] == [106]
    assert seq.proxies["thumbnails"]  # made by the proxies job, run inline
    assert seq.analysis["frames"] == 8  # 9 files, the bad one left out
    assert (Path(seq.storage_dir) / "analysis.npz").stat().st_size > 0
    page = client.get(scan_run.reel.get_absolute_url()).content.decode()
    assert "Problems" in page and "1 frame missing: 104" in page
    assert "bad frame 106" in page and "reel.0000106.dpx" in page
    assert "Analysis of 8 frames" in page
    thumb = seq.proxies["thumbnails"][0][1]
    img = client.get(reverse("workflow:sequence_file", args=[seq.reel_id, seq.pk, "thumbs",
                                                            thumb]))
    assert img.status_code == 200 and img["Content-Type"] == "image/jpeg"
    t.sign_off(scan_run, by=people["technician"])
    client.force_login(people["supervisor"])
    queue = client.get(reverse("workflow:queue")).content.decode()
    assert "1 missing" in queue and "1 bad frame" in queue
    manifest = client.get(reverse("workflow:sequence_file", args=[
        seq.reel_id, seq.pk, "meta", "manifest-sha256.txt"]))
    assert b"".join(manifest.streaming_content).decode() == Path(seq.manifest_path).read_text()


def test_a_folder_not_in_the_list_is_refused(client, people, scan_run, tmp_path):
    outside = tmp_path / "outside"
    write_sequence(outside, range(1, 3))
    client.force_login(people["technician"])
    response = client.post(url("import_scan", scan_run), {"folder": str(outside)})
    assert response.status_code == 400
    assert not Sequence.objects.exists()


def test_wrong_role_cannot_import(client, people, scan_run, folder):
    client.force_login(people["restorer"])
    assert client.post(url("import_scan", scan_run), {"folder": str(folder)}).status_code == 403
    client.force_login(people["outsider"])
    assert client.post(url("import_scan", scan_run), {"folder": str(folder)}).status_code == 403
    assert client.get(url("import_scan", scan_run)).status_code == 405  # POST only
    assert not Sequence.objects.exists()


def test_progress_partial_refreshes_the_page_when_the_import_ends(client, people, scan_run,
                                                                  folder):
    seq = t.start_scan_import(scan_run, folder, by=people["technician"])  # jobs not run yet
    client.force_login(people["supervisor"])
    progress = reverse("workflow:sequence_progress", args=[seq.reel_id, seq.pk])
    first = client.get(progress)
    assert "0 of 9 files read" in first.content.decode() and "HX-Refresh" not in first
    page = client.get(scan_run.reel.get_absolute_url()).content.decode()
    assert 'id="import-progress"' in page and 'id="import-form"' not in page
    from workflow.models import Job
    from workflow.runner import run_now

    for job in Job.objects.filter(state="queued").order_by("pk"):
        run_now(job.pk)
    done = client.get(progress)
    assert done["HX-Refresh"] == "true" and "9 of 9" in done.content.decode()


@pytest.mark.parametrize("kind,name", [("meta", "plan.json"), ("thumbs", "..%2Fplan.json"),
                                       ("sheets", ".hidden.jpg"), ("other", "x.jpg")])
def test_sequence_files_outside_the_list_are_not_served(client, people, scan_run, folder,
                                                        kind, name):
    with inline_jobs():
        seq = t.start_scan_import(scan_run, folder, by=people["technician"])
    client.force_login(people["technician"])
    response = client.get(f"/reels/{seq.reel_id}/sequences/{seq.pk}/{kind}/{name}")
    assert response.status_code == 404


def test_refusal_shows_at_the_form_and_the_scan_stays_visible_after_approval(
        client, people, scan_run, folder):
    write_sequence(folder, range(1, 3), prefix="other_", padding=4)
    client.force_login(people["technician"])
    response = client.post(url("import_scan", scan_run), {"folder": str(folder)})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="field-error"' in page and "other_####.dpx" in page
    with inline_jobs():
        client.post(url("import_scan", scan_run), {"folder": str(folder),
                                                   "pattern": "reel.#######.dpx"})
    seq = Sequence.objects.get()
    page = client.get(scan_run.reel.get_absolute_url()).content.decode()
    assert "Sign it off anyway?" in page  # the scan has problems: the sign-off asks first
    history = page[page.index('id="history"'):]
    assert str(folder) in history and "other files left out" in history
    t.sign_off(scan_run, by=people["technician"])
    t.approve_stage(scan_run, by=people["supervisor"])
    client.force_login(people["restorer"])
    page = client.get(scan_run.reel.get_absolute_url()).content.decode()
    assert 'id="raw-scan"' in page and "1 frame missing: 104" in page
    card = client.get(reverse("workflow:sequence_card", args=[seq.reel_id, seq.pk]))
    assert card.status_code == 200 and f'id="sequence-{seq.pk}"' in card.content.decode()
