"""The event log is evidence: refused updates and deletes, and tampering found by verify_history."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from archive.models import Reel
from tests.conftest import is_postgres, make_reel, signed_off_run
from workflow import transitions as t
from workflow.history import event_hash
from workflow.models import AppendOnlyError, Event

pytestmark = pytest.mark.django_db


def history_of(people, n_reels: int = 2) -> list[Reel]:
    reels = []
    for _ in range(n_reels):
        run = signed_off_run(people)
        t.approve_stage(run, by=people["supervisor"])  # 6 events: opened, started, edited, signed_off, approved, opened
        reels.append(Reel.objects.get(pk=run.reel_id))
    return reels


def verify() -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("verify_history", "--json", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class triggers_off:
    """What someone with the database owner's rights can do: switch the guards off."""

    def __enter__(self):
        if is_postgres():
            raw("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks may be pending
            raw("ALTER TABLE workflow_event DISABLE TRIGGER USER")
        else:
            raw("DROP TRIGGER workflow_event_no_update")
            raw("DROP TRIGGER workflow_event_no_delete")

    def __exit__(self, *exc):
        if is_postgres():
            raw("ALTER TABLE workflow_event ENABLE TRIGGER USER")


def test_model_refuses_update_and_delete(people):
    reel = history_of(people, 1)[0]
    event = Event.objects.filter(reel=reel).first()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(reel=reel).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(reel=reel).delete()
    assert not Event.objects.filter(reason="rewritten").exists()


def test_database_refuses_update_and_delete_in_raw_sql(people):
    reel = history_of(people, 1)[0]
    first = Event.objects.filter(reel=reel).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("UPDATE workflow_event SET reason = 'rewritten' WHERE id = %s", [first.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("DELETE FROM workflow_event WHERE id = %s", [first.pk])
    assert Event.objects.filter(reel=reel).count() == reel.event_count == 6


def test_reel_with_history_cannot_be_deleted(people):
    from django.db.models import ProtectedError

    reel = history_of(people, 1)[0]
    with pytest.raises(ProtectedError):
        reel.delete()


def test_admin_offers_no_change_or_delete_of_events(people, client, django_user_model):
    reel = history_of(people, 1)[0]
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    event = Event.objects.filter(reel=reel).first()
    assert client.get(f"/admin/workflow/event/{event.pk}/delete/").status_code == 403
    response = client.post(f"/admin/workflow/event/{event.pk}/change/", {"reason": "x"})
    assert response.status_code == 403
    assert Event.objects.get(pk=event.pk).reason == event.reason


def test_clean_history_verifies(people):
    history_of(people, 3)
    code, report = verify()
    assert code == 0
    assert report == {"ok": True, "reels_checked": 3, "events_checked": 18, "problems": []}


def test_each_hash_links_to_the_one_before(people):
    reel = history_of(people, 1)[0]
    events = list(Event.objects.filter(reel=reel).order_by("seq"))
    assert events[0].prev_hash == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert reel.head_hash == events[-1].hash


def test_row_changed_in_sql_is_reported(people):
    reels = history_of(people, 2)
    target = Event.objects.get(reel=reels[1], seq=4)
    with triggers_off():
        raw("UPDATE workflow_event SET actor_name = 'someone_else' WHERE id = %s", [target.pk])
    code, report = verify()
    assert code == 1 and report["ok"] is False
    assert report["reels_checked"] == 2 and report["events_checked"] == 12
    assert {(p["accession"], p["event"]) for p in report["problems"]} == {(reels[1].accession, 4)}
    assert "changed" in report["problems"][0]["problem"]


def test_row_changed_and_rehashed_breaks_the_next_link(people):
    reel = history_of(people, 1)[0]
    target = Event.objects.get(reel=reel, seq=3)
    target.reason = "forged"
    forged_hash = event_hash(target)
    with triggers_off():
        raw("UPDATE workflow_event SET reason = 'forged', hash = %s WHERE id = %s",
            [forged_hash, target.pk])
    code, report = verify()
    assert code == 1
    assert (reel.accession, 4) in {(p["accession"], p["event"]) for p in report["problems"]}


def test_row_deleted_in_sql_is_reported(people):
    reel = history_of(people, 1)[0]
    with triggers_off():
        raw("DELETE FROM workflow_event WHERE reel_id = %s AND seq = 2", [reel.pk])
    code, report = verify()
    assert code == 1
    assert report["events_checked"] == 5
    problems = {(p["accession"], p["event"]) for p in report["problems"]}
    assert (reel.accession, 3) in problems  # the event after the gap
    assert (reel.accession, None) in problems  # the reel counts 6, 5 are stored
    assert any("missing" in p["problem"] for p in report["problems"])


def test_last_row_deleted_in_sql_is_reported(people):
    reel = history_of(people, 1)[0]
    with triggers_off():
        raw("DELETE FROM workflow_event WHERE reel_id = %s AND seq = 6", [reel.pk])
    code, report = verify()
    assert code == 1
    assert [(p["accession"], p["event"]) for p in report["problems"]] == [
        (reel.accession, None), (reel.accession, None)]


def test_row_inserted_in_sql_is_reported(people):
    reel = history_of(people, 1)[0]
    head = Event.objects.get(reel=reel, seq=6)
    raw("""INSERT INTO workflow_event (reel_id, seq, stage, verb, actor_name, from_state,
           to_state, reason, digest, data, created_at, prev_hash, hash)
           VALUES (%s, 7, 'scan', 'approved', 'intruder', 'signed_off', 'approved', '', '',
           '{}', now(), %s, %s)""", [reel.pk, head.hash, "0" * 64])
    code, report = verify()
    assert code == 1
    problems = {(p["accession"], p["event"]) for p in report["problems"]}
    assert (reel.accession, 7) in problems and (reel.accession, None) in problems


def test_verify_history_human_output(people):
    history_of(people, 1)
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    assert out.getvalue().strip() == "OK: 1 reels, 6 events checked"


def test_untouched_reels_report_nothing(people):
    a, b = history_of(people, 2)
    with triggers_off():
        raw("UPDATE workflow_event SET reason = 'x' WHERE reel_id = %s AND seq = 1", [a.pk])
    code, report = verify()
    assert {p["accession"] for p in report["problems"]} == {a.accession}


def test_new_reel_without_history_verifies(db):
    make_reel()
    code, report = verify()
    assert code == 0 and report["events_checked"] == 0
