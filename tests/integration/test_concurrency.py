"""Two supervisors at the same moment, on two real database connections: exactly one wins."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import is_postgres, signed_off_run
from workflow import transitions as t
from workflow.models import Event, StageRun, Status
from workflow.transitions import TransitionRefused

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions):
    """Run each action on its own thread (so its own connection), released together."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", action())
        except TransitionRefused as exc:
            results[i] = ("refused", str(exc))
        except Exception as exc:  # anything else is a failure of the test
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    return results


def test_runs_on_postgresql():
    assert is_postgres(), "the concurrency tests need PostgreSQL (see .ci/run)"


@pytest.mark.parametrize("attempt", range(5))
def test_two_supervisors_approving_at_once_exactly_one_succeeds(people, attempt):
    run = signed_off_run(people)
    results = race(lambda: t.approve_stage(run, by=people["supervisor"]),
                   lambda: t.approve_stage(run, by=people["supervisor2"]))
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["ok", "refused"], results
    loser = next(r[1] for r in results if r[0] == "refused")
    assert "already approved by supervisor" in loser
    assert Event.objects.filter(reel=run.reel, verb="approved").count() == 1
    assert StageRun.objects.filter(reel=run.reel, stage="scan").count() == 1
    assert StageRun.objects.get(pk=run.pk).status == Status.APPROVED


@pytest.mark.parametrize("attempt", range(3))
def test_approve_and_return_at_once_exactly_one_succeeds(people, attempt):
    run = signed_off_run(people)
    results = race(
        lambda: t.approve_stage(run, by=people["supervisor"]),
        lambda: t.return_reel(run, by=people["supervisor2"], to_stage="inspection",
                              reason="splices need redoing"))
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    final = StageRun.objects.get(pk=run.pk).status
    assert final in (Status.APPROVED, Status.RETURNED)
    assert StageRun.objects.filter(reel=run.reel).active().count() == 1
    events = list(Event.objects.filter(reel=run.reel).order_by("seq").values_list("seq", flat=True))
    assert events == list(range(1, len(events) + 1))


def test_double_click_sign_off_signs_once(people):
    run = signed_off_run(people)
    t.withdraw(run, by=people["technician"])
    results = race(lambda: t.sign_off(run, by=people["technician"]),
                   lambda: t.sign_off(run, by=people["technician"]))
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    assert Event.objects.filter(reel=run.reel, verb="signed_off").count() == 2  # first + again
