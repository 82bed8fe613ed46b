"""Jobs run by a real `rqworker` process from the real Redis, and by the in-process runner."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from tests.conftest import make_reel
from workflow import runner
from workflow import transitions as t
from workflow.models import Event, Job, JobState
from workflow.photos import store_photo

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def photo_upload(size=(640, 480), name="can.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def inspection_run(people):
    return t.open_first_stage(make_reel(), by=people["technician"])


def add_photo(run, people):
    stored = store_photo(photo_upload(), reel_id=run.reel_id)
    photo = t.attach_photo(run, stored, by=people["technician"])
    return photo, Job.objects.get(kind="thumbnail_photo", args__photo=photo.pk)


@pytest.fixture
def rq_backend(settings):
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL is not set: the job tests need the real Redis (see .ci/run)")
    settings.JOBS_BACKEND = "rq"
    import django_rq

    django_rq.get_connection("default").flushdb()  # the test Redis database only
    return settings


@pytest.fixture
def thread_backend(settings):
    settings.JOBS_BACKEND = "thread"
    return settings


def run_rq_worker(*queues: str) -> subprocess.CompletedProcess:
    """A real worker process on the test database, which drains the queues and exits."""
    env = {**os.environ,
           "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
           "STORAGE_ROOT": str(settings.STORAGE_ROOT), "DJANGO_SETTINGS_MODULE": "archive.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", *queues, "--burst"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def check_thumbnail(photo) -> None:
    photo.refresh_from_db()
    path = Path(settings.MEDIA_ROOT) / photo.thumbnail
    with Image.open(path) as im:  # 640x480 scaled to a 360 px longest side
        assert (im.format, im.size) == ("JPEG", (360, 270))


def test_rq_worker_process_runs_the_photo_job(people, rq_backend):
    photo, job = add_photo(inspection_run(people), people)
    import django_rq

    assert django_rq.get_queue("default").count == 1  # sent to Redis once committed
    assert job.state == JobState.QUEUED
    result = run_rq_worker("default")
    assert result.returncode == 0, result.stderr[-3000:]
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    assert job.worker and not job.worker.startswith("in-process")
    assert job.started_at and job.ended_at and (job.done, job.total) == (2, 2)
    check_thumbnail(photo)
    assert Event.objects.filter(reel=job.reel, verb="job_done").count() == 1


def test_in_process_runner_runs_the_same_job(people, thread_backend):
    photo, job = add_photo(inspection_run(people), people)
    assert runner.wait_in_process(timeout=60)
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    assert job.worker.startswith("in-process")
    check_thumbnail(photo)


def failing_job(people):
    run = inspection_run(people)
    return runner.enqueue("always_fails", reel=run.reel, run=run, by=people["technician"])


def assert_failure_shown(job, client, people, backend: str):
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == f"RuntimeError: job {job.pk} failed on purpose: {backend} runner"
    assert job.ended_at is not None
    event = Event.objects.get(reel=job.reel, verb="job_failed")
    assert "failed on purpose" in event.reason
    client.force_login(people["technician"])
    page = client.get(job.reel.get_absolute_url()).content.decode()
    assert f"failed on purpose: {backend} runner" in page
    assert 'data-state="failed"' in page
    assert 'data-state="done"' not in page
    partial = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Failed:" in partial and "hx-trigger" not in partial  # polling stops


def test_failing_job_under_rq_ends_failed_with_its_error_on_the_page(people, rq_backend, client):
    job = failing_job(people)
    result = run_rq_worker("default")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_failure_shown(job, client, people, "rq")


def test_failing_job_in_process_ends_failed_with_its_error_on_the_page(people, thread_backend,
                                                                        client):
    job = failing_job(people)
    assert runner.wait_in_process(timeout=60)
    assert_failure_shown(job, client, people, "thread")


def test_queued_job_polls_and_shows_no_success(people, rq_backend, client):
    _, job = add_photo(inspection_run(people), people)
    client.force_login(people["technician"])
    partial = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in partial and 'data-state="queued"' in partial
    assert 'aria-valuenow="0"' in partial


def test_unknown_job_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown job kind 'nope'"):
        runner.enqueue("nope")
