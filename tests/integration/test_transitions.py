"""Every transition: the happy path, the wrong role, the signer as approver, the stale caller."""
from __future__ import annotations

import pytest

from archive.models import Reel
from tests.conftest import INSPECTION, do_work, make_reel, signed_off_run
from workflow import transitions as t
from workflow.models import Event, Stage, StageRun, Status
from workflow.transitions import NotAllowed, TransitionRefused

pytestmark = pytest.mark.django_db


def verbs(reel: Reel) -> list[str]:
    return list(Event.objects.filter(reel=reel).order_by("seq").values_list("verb", flat=True))


def test_open_first_stage_opens_inspection(people, reel):
    run = t.open_first_stage(reel, by=people["technician"])
    reel.refresh_from_db()
    assert (run.stage, run.status, run.attempt) == ("inspection", "open", 1)
    assert reel.current_stage == "inspection"
    assert verbs(reel) == ["opened"]
    assert reel.event_count == 1 and len(reel.head_hash) == 64


def test_open_first_stage_refused_twice_and_for_wrong_role(people, reel):
    with pytest.raises(NotAllowed):
        t.open_first_stage(reel, by=people["restorer"])
    t.open_first_stage(reel, by=people["archivist"])
    with pytest.raises(TransitionRefused, match="already in the chain"):
        t.open_first_stage(reel, by=people["technician"])
    assert StageRun.objects.filter(reel=reel).count() == 1


def test_start_moves_open_to_in_progress(people, reel):
    run = t.open_first_stage(reel, by=people["technician"])
    run = t.start_stage(run, by=people["technician"])
    assert run.status == Status.IN_PROGRESS
    assert StageRun.objects.get(pk=run.pk).started_by == people["technician"]
    assert verbs(reel) == ["opened", "started"]
    with pytest.raises(TransitionRefused, match="cannot be started"):
        t.start_stage(run, by=people["technician"])


@pytest.mark.parametrize("who", ["restorer", "colorist", "sound", "supervisor", "archivist",
                                 "outsider"])
def test_wrong_role_cannot_start_or_record_inspection(people, reel, who):
    run = t.open_first_stage(reel, by=people["technician"])
    with pytest.raises(NotAllowed, match="technician"):
        t.start_stage(run, by=people[who])
    with pytest.raises(NotAllowed):
        t.save_inspection(run, INSPECTION, by=people[who])
    assert StageRun.objects.get(pk=run.pk).status == Status.OPEN
    assert verbs(reel) == ["opened"]


def test_first_save_starts_the_stage_and_every_edit_is_an_event(people, reel):
    run = t.open_first_stage(reel, by=people["technician"])
    t.save_inspection(run, INSPECTION, by=people["technician"])
    t.save_inspection(run, {**INSPECTION, "tears": 4}, by=people["technician"])
    t.save_inspection(run, {**INSPECTION, "tears": 4}, by=people["technician"])  # no change
    assert verbs(reel) == ["opened", "started", "edited", "edited"]
    last = Event.objects.filter(reel=reel).latest("seq")
    assert last.data["changed"] == {"tears": ["1", "4"]}
    assert last.actor == people["technician"] and last.digest


def test_inspection_values_out_of_range_are_refused(people, reel):
    from django.core.exceptions import ValidationError

    run = t.open_first_stage(reel, by=people["technician"])
    with pytest.raises(ValidationError) as err:
        t.save_inspection(run, {**INSPECTION, "vinegar_level": 5}, by=people["technician"])
    assert "vinegar_level" in err.value.message_dict


def test_sign_off_locks_the_work_and_records_its_digest(people, reel):
    run = do_work(t.open_first_stage(reel, by=people["technician"]), people)
    run = t.sign_off(run, by=people["technician"], comment="clean and sound")
    assert run.status == Status.SIGNED_OFF and run.signed_off_by == people["technician"]
    assert run.signed_digest == t.current_digest(run)
    event = Event.objects.filter(reel=reel).latest("seq")
    assert (event.verb, event.digest, event.reason) == ("signed_off", run.signed_digest,
                                                        "clean and sound")
    with pytest.raises(TransitionRefused, match="locked"):
        t.save_inspection(run, {**INSPECTION, "tears": 9}, by=people["technician"])
    assert run.inspection.tears == 1


def test_sign_off_needs_recorded_work_and_the_stage_role(people, reel):
    run = t.open_first_stage(reel, by=people["technician"])
    with pytest.raises(TransitionRefused, match="cannot be signed off"):
        t.sign_off(run, by=people["technician"])
    t.start_stage(run, by=people["technician"])
    with pytest.raises(TransitionRefused, match="record the inspection"):
        t.sign_off(run, by=people["technician"])
    do_work(run, people)
    with pytest.raises(NotAllowed):
        t.sign_off(run, by=people["supervisor"])
    assert StageRun.objects.get(pk=run.pk).status == Status.IN_PROGRESS


def test_digest_changes_when_signed_work_is_altered_behind_the_app(people):
    run = signed_off_run(people)
    from workflow.models import Inspection

    Inspection.objects.filter(run=run).update(tears=99)  # what a console edit would do
    assert t.current_digest(run) != run.signed_digest


def test_withdraw_by_signer_reopens_work(people):
    run = signed_off_run(people)
    run = t.withdraw(run, by=people["technician"], reason="forgot the splices")
    assert run.status == Status.IN_PROGRESS and run.signed_off_by is None
    assert verbs(run.reel)[-1] == "withdrawn"
    assert Event.objects.filter(reel=run.reel).latest("seq").reason == "forgot the splices"


def test_withdraw_refused_for_anyone_but_the_signer_and_after_approval(people, django_user_model):
    run = signed_off_run(people)
    other_tech = django_user_model.objects.create_user("tech2")
    other_tech.groups.set(people["technician"].groups.all())
    for who in (other_tech, people["supervisor"]):
        with pytest.raises(NotAllowed, match="only the person who signed off"):
            t.withdraw(run, by=who)
    t.approve_stage(run, by=people["supervisor"])
    with pytest.raises(TransitionRefused, match="already approved by supervisor"):
        t.withdraw(run, by=people["technician"])


def test_approve_opens_the_next_stage(people):
    run = signed_off_run(people)
    opened = t.approve_stage(run, by=people["supervisor"])
    run.refresh_from_db()
    assert run.status == Status.APPROVED and run.approved_by == people["supervisor"]
    assert (opened.stage, opened.status, opened.previous_id) == ("scan", "open", run.pk)
    reel = Reel.objects.get(pk=run.reel_id)
    assert reel.current_stage == "scan"
    assert verbs(reel)[-2:] == ["approved", "opened"]


def test_signer_cannot_approve_own_signoff(people):
    run = signed_off_run(people, Stage.SCREENING)  # screening is signed off by a supervisor
    assert run.signed_off_by == people["supervisor"]
    with pytest.raises(NotAllowed, match="own signed-off work"):
        t.approve_stage(run, by=people["supervisor"])
    assert StageRun.objects.get(pk=run.pk).status == Status.SIGNED_OFF
    t.approve_stage(run, by=people["supervisor2"])
    assert StageRun.objects.get(pk=run.pk).status == Status.APPROVED


@pytest.mark.parametrize("who", ["technician", "restorer", "archivist", "outsider"])
def test_wrong_role_cannot_approve_or_return(people, who):
    run = signed_off_run(people)
    with pytest.raises(NotAllowed, match="supervisor"):
        t.approve_stage(run, by=people[who])
    with pytest.raises(NotAllowed, match="supervisor"):
        t.return_reel(run, by=people[who], to_stage="inspection", reason="no")
    assert StageRun.objects.get(pk=run.pk).status == Status.SIGNED_OFF


def test_second_approval_is_told_who_was_first(people):
    run = signed_off_run(people)
    t.approve_stage(run, by=people["supervisor"])
    with pytest.raises(TransitionRefused, match="already approved by supervisor"):
        t.approve_stage(run, by=people["supervisor2"])
    assert StageRun.objects.filter(reel=run.reel, stage="scan").count() == 1


def test_return_opens_a_new_run_at_an_earlier_stage_and_later_stages_run_again(people):
    run = signed_off_run(people, Stage.REPAIR)
    opened = t.return_reel(run, by=people["supervisor"], to_stage="scan",
                           reason="scan is soft in frames 100-200")
    run.refresh_from_db()
    assert run.status == Status.RETURNED and run.returned_to == "scan"
    assert (opened.stage, opened.attempt, opened.status) == ("scan", 2, "open")
    assert Reel.objects.get(pk=run.reel_id).current_stage == "scan"
    returned = Event.objects.get(reel=run.reel, verb="returned")
    assert returned.reason == "scan is soft in frames 100-200"
    assert returned.data == {"to_stage": "scan"}
    # the rescan is approved; repair opens again as attempt 2 and the old runs are kept
    do_work(opened, people)
    t.sign_off(opened, by=people["technician"])
    repair2 = t.approve_stage(opened, by=people["supervisor"])
    assert (repair2.stage, repair2.attempt) == ("repair", 2)
    assert StageRun.objects.filter(reel=run.reel).count() == 5


def test_return_to_the_same_stage(people):
    run = signed_off_run(people)
    opened = t.return_reel(run, by=people["supervisor"], to_stage="inspection", reason="redo")
    assert (opened.stage, opened.attempt) == ("inspection", 2)


def test_return_needs_a_reason_and_an_earlier_stage(people):
    run = signed_off_run(people, Stage.SCAN)
    with pytest.raises(TransitionRefused, match="reason"):
        t.return_reel(run, by=people["supervisor"], to_stage="scan", reason="   ")
    with pytest.raises(TransitionRefused, match="earlier stage"):
        t.return_reel(run, by=people["supervisor"], to_stage="grading", reason="why not")
    with pytest.raises(TransitionRefused, match="earlier stage"):
        t.return_reel(run, by=people["supervisor"], to_stage="nowhere", reason="why not")
    assert StageRun.objects.get(pk=run.pk).status == Status.SIGNED_OFF


def test_a_reel_goes_through_all_seven_stages_to_preserved(people):
    run = signed_off_run(people, Stage.STORAGE)
    assert t.approve_stage(run, by=people["supervisor"]) is None
    reel = Reel.objects.get(pk=run.reel_id)
    assert reel.current_stage == "preserved"
    runs = list(StageRun.objects.filter(reel=reel).order_by("pk").values_list("stage", "status"))
    assert runs == [(s.value, "approved") for s in Stage.chain()]
    assert verbs(reel)[-1] == "preserved"
    # 7 x (opened, started, edited, signed_off, approved) + preserved, and the scan's import:
    # import_started, job_done (its one chunk), scan_imported, job_done (the proxies and the
    # analysis, run inline by the final job), job_done (the final job); and the same six for
    # the repair: repair_started, job_done (its chunk), repair_finished, three job_done; and
    # six for the grading's render; the base grade's save is the grading's `edited`
    assert reel.event_count == 36 + 6 + 6 + 6


def test_the_database_keeps_one_active_run_per_reel(people, reel):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    t.open_first_stage(reel, by=people["technician"])
    with pytest.raises(IntegrityError), transaction.atomic():
        StageRun.objects.create(reel=reel, stage="scan", opened_at=timezone.now())


def test_events_record_who_from_to_and_when(people):
    run = signed_off_run(people)
    t.approve_stage(run, by=people["supervisor"])
    approved = Event.objects.get(reel=run.reel, verb="approved")
    assert (approved.actor_name, approved.from_state, approved.to_state, approved.stage) == (
        "supervisor", "signed_off", "approved", "inspection")
    assert approved.digest == StageRun.objects.get(pk=run.pk).signed_digest
    assert approved.created_at is not None
    seqs = list(Event.objects.filter(reel=run.reel).order_by("pk").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_other_reels_unaffected(people):
    a, b = make_reel(), make_reel()
    run_a = signed_off_run(people, reel=a)
    t.open_first_stage(b, by=people["technician"])
    t.approve_stage(run_a, by=people["supervisor"])
    assert Reel.objects.get(pk=b.pk).current_stage == "inspection"
    assert Reel.objects.get(pk=b.pk).event_count == 1
