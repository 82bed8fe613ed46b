"""Background jobs: thin functions `<kind>_job(job_id)` that load rows, call `restoration`,
and hand the result to a transition. They run the same under `rqworker` and in-process.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from restoration.images import make_thumbnail
from workflow.models import InspectionPhoto
from workflow.runner import worker_name
from workflow.transitions import begin_job, finish_job, report_progress


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        report_progress(job_id, done, total)

    return report


def thumbnail_photo_job(job_id: int) -> None:
    job = begin_job(job_id, worker=worker_name())
    photo = InspectionPhoto.objects.get(pk=job.args["photo"])
    source = Path(settings.MEDIA_ROOT) / photo.image.name
    thumb_name = str(Path(photo.image.name).with_suffix("")) + ".thumb.jpg"
    report = make_thumbnail(source, Path(settings.MEDIA_ROOT) / thumb_name,
                            on_progress=_progress(job_id))
    InspectionPhoto.objects.filter(pk=photo.pk).update(thumbnail=thumb_name)
    finish_job(job_id, message=f"thumbnail {report.width}x{report.height}")


def always_fails_job(job_id: int) -> None:
    """A job that fails on purpose, so the failure path can be seen and tested end to end."""
    begin_job(job_id, worker=worker_name())
    report_progress(job_id, 1, 3, "about to fail")
    raise RuntimeError(f"job {job_id} failed on purpose: {settings.JOBS_BACKEND} runner")
