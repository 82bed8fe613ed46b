"""One small `enqueue()` for every background job, and the two runners behind it.

With `REDIS_URL` set, jobs go to django-rq queues and `rqworker` processes (on this machine or
any other pointed at the same Redis, database and storage) run them. Without it (the embedded
default) the same job functions run on a background thread pool inside the web process and
write the same Job rows. Either way the job function is `<kind>_job(job_id)` in
`workflow.jobs`; it marks itself running, reports progress and finishes; an exception is caught
here (thread) or by RQ's failure callback and recorded on the Job row with its text.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils.module_loading import import_string

from workflow.models import Job

log = logging.getLogger(__name__)

# kind -> (queue, timeout in seconds). The function is workflow.jobs.<kind>_job.
JOB_KINDS: dict[str, tuple[str, int]] = {
    "thumbnail_photo": ("default", 300),
    "ingest_chunk": ("ingest", 4 * 3600),
    "ingest_finish": ("ingest", 4 * 3600),
    "make_proxies": ("cpu", 4 * 3600),
    "analyze_scan": ("cpu", 8 * 3600),
    # The network is loaded inside these jobs, never before RQ forks (see workflow.jobs).
    "repair_preview": ("gpu", 3600),
    "repair_chunk": ("gpu", 12 * 3600),
    "repair_finish": ("cpu", 8 * 3600),
    "grade_chunk": ("cpu", 8 * 3600),
    "grade_finish": ("cpu", 8 * 3600),
    "always_fails": ("default", 60),  # proves the failure path end to end (tests, `demo`)
}


def job_function_path(kind: str) -> str:
    return f"workflow.jobs.{kind}_job"


def _create(kind: str, *, reel: Any = None, run: Any = None, by: Any = None,
            args: dict[str, Any] | None = None) -> Job:
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_KINDS))}")
    return Job.objects.create(
        kind=kind, queue=JOB_KINDS[kind][0], reel=reel, run=run, created_by=by,
        args=args or {}, rq_id=f"reelkeeper-{kind}-{uuid.uuid4().hex}",
    )


_inline = threading.local()


@contextmanager
def inline_jobs() -> Iterator[None]:
    """Run jobs right away in this thread instead of handing them to a runner.

    For the `demo` command and tests, which need a job's result before their next step. The
    jobs run inside the caller's transaction, as the same person, with the same functions.
    """
    previous = getattr(_inline, "on", False)
    _inline.on = True
    try:
        yield
    finally:
        _inline.on = previous


def run_now(job_id: int) -> None:
    from workflow.transitions import fail_job

    kind = Job.objects.values_list("kind", flat=True).get(pk=job_id)
    try:
        import_string(job_function_path(kind))(job_id)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        fail_job(job_id, error=error_text(type(exc), exc))


def _dispatch(job: Job, after: list[Job] | None = None) -> None:
    """Hand a created job to the configured runner once the transaction commits."""
    if getattr(_inline, "on", False):
        if Job.objects.get(pk=job.pk).state == "queued":  # not failed with one of its parts
            run_now(job.pk)
        return
    if settings.JOBS_BACKEND == "rq":
        _enqueue_rq(job, JOB_KINDS[job.kind][1], after)
    else:
        transaction.on_commit(lambda: submit_in_process(job.pk))


def enqueue(kind: str, *, reel: Any = None, run: Any = None, by: Any = None,
            args: dict[str, Any] | None = None) -> Job:
    """Create the Job row and hand the job to the configured runner once the transaction commits."""
    job = _create(kind, reel=reel, run=run, by=by, args=args)
    _dispatch(job)
    return job


def enqueue_group(kind: str, items: list[dict[str, Any]], *, then: str,
                  then_args: dict[str, Any], reel: Any = None, run: Any = None,
                  by: Any = None) -> tuple[list[Job], Job]:
    """Many `kind` jobs (one per item), then one `then` job that runs when all have succeeded.

    Each part records the final job as `args["then"]`, so a failed part fails the final job
    too (see transitions.fail_job) instead of leaving it waiting for ever.
    """
    final = _create(then, reel=reel, run=run, by=by, args=then_args)
    parts = [_create(kind, reel=reel, run=run, by=by, args={**item, "then": final.pk})
             for item in items]
    final.args = {**then_args, "after": [p.pk for p in parts]}
    final.save(update_fields=["args"])
    for part in parts:
        _dispatch(part)
    _dispatch(final, after=parts)
    return parts, final


def _enqueue_rq(job: Job, timeout: int, after: list[Job] | None = None) -> None:
    import django_rq
    from rq import Callback

    queue = django_rq.get_queue(job.queue)
    # django-rq (COMMIT_MODE on_db_commit) sends this only after the transaction commits; the
    # parts are sent before the final job, so the ids it depends on exist in Redis.
    queue.enqueue(
        job_function_path(job.kind), job.pk, job_id=job.rq_id, job_timeout=timeout,
        on_failure=Callback("workflow.runner.record_rq_failure"),
        result_ttl=86400, failure_ttl=7 * 86400,
        depends_on=[p.rq_id for p in after] if after else None,
    )


def record_rq_failure(rq_job: Any, connection_: Any, exc_type: Any, exc: Any, tb: Any) -> None:
    """RQ failure callback: keep the error text where the reel page shows it."""
    from workflow.transitions import fail_job

    fail_job(int(rq_job.args[0]), error=error_text(exc_type, exc))


def error_text(exc_type: Any, exc: Any) -> str:
    name = getattr(exc_type, "__name__", str(exc_type))
    return f"{name}: {exc}" if str(exc) else name


def worker_name() -> str:
    """Who is running the current job: the RQ worker's name, or this process and thread."""
    from rq import get_current_job

    try:
        current = get_current_job()
    except Exception:  # no RQ context (in-process runner)
        current = None
    if current is not None and current.worker_name:
        return str(current.worker_name)
    return f"in-process {socket.gethostname()}:{os.getpid()} {threading.current_thread().name}"


# In-process runner ------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_pending: set[Future[None]] = set()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=max(1, settings.JOBS_THREADS), thread_name_prefix="reelkeeper-job")
        return _executor


_futures: dict[int, Future[None]] = {}


def submit_in_process(job_id: int) -> Future[None]:
    future = _pool().submit(run_in_process, job_id)
    with _lock:
        _pending.add(future)
        _futures[job_id] = future

    def forget(f: Future[None]) -> None:
        with _lock:
            _pending.discard(f)

    future.add_done_callback(forget)
    return future


def _wait_for(job_ids: list[int]) -> None:
    """The in-process runner's job dependencies: parts were submitted first, so they are
    ahead in the pool's queue and waiting here cannot deadlock."""
    from concurrent.futures import wait

    with _lock:
        futures = [_futures[j] for j in job_ids if j in _futures]
    wait(futures)
    with _lock:
        for j in job_ids:
            _futures.pop(j, None)


def run_in_process(job_id: int) -> None:
    from workflow.transitions import fail_job

    close_old_connections()
    try:
        kind, args, state = Job.objects.values_list("kind", "args", "state").get(pk=job_id)
        if args.get("after"):
            _wait_for(args["after"])
            if Job.objects.get(pk=job_id).state != "queued":  # failed with one of its parts
                return
        elif state != "queued":
            return
        import_string(job_function_path(kind))(job_id)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        try:
            fail_job(job_id, error=error_text(type(exc), exc))
        except Exception:
            log.exception("could not record the failure of job %s", job_id)
    finally:
        connection.close()


def wait_in_process(timeout: float = 30.0) -> bool:
    """Wait until the in-process runner has nothing left to do (tests, the `demo` command)."""
    import time
    from concurrent.futures import wait

    deadline = time.monotonic() + timeout
    while True:  # a job may enqueue another (an import's final job queues its proxies)
        with _lock:
            pending = list(_pending)
        if not pending:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        wait(pending, timeout=left)
