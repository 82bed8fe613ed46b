"""The grading stage: the base grade and per-shot CDLs checked by name, shots from the scene
cuts, copies between shots; every change an event bound to the work's digest."""
from __future__ import annotations

import pytest

from tests.conftest import signed_off_run
from workflow import transitions as t
from workflow.models import Event, GradeRecord, Shot, Stage

pytestmark = pytest.mark.django_db(transaction=True)

CDL = {"slope": [1.1, 1.0, 0.9], "offset": [0.01, 0.0, -0.01], "power": [1.0, 1.05, 1.0],
       "saturation": 0.9}


@pytest.fixture
def grading(people, settings):
    settings.JOBS_BACKEND = "thread"
    run = signed_off_run(people, Stage.REPAIR)
    return t.approve_stage(run, by=people["supervisor"])


def test_base_grade_is_checked_and_recorded(people, grading):
    colorist = people["colorist"]
    record = t.save_grade(grading, {"base": {"cdl": CDL, "out_space": "rec709"}}, by=colorist)
    assert record.base == {"cdl": CDL, "lut": None, "interpolation": "tetrahedral",
                           "in_transfer": "", "out_space": "rec709"}
    assert record.source.kind == "repaired"  # grading works from the repair
    for bad, words in [({"cdl": {**CDL, "power": [1, 0, 1]}}, "power"),
                       ({"cdl": {**CDL, "slope": [1, 1]}}, "slope"),
                       ({"cdl": {**CDL, "saturation": -1}}, "saturation"),
                       ({"cdl": {**CDL, "gamma": 2}}, "gamma"),
                       ({"out_space": "srgb"}, "out_space"),
                       ({"in_transfer": "logc"}, "in_transfer")]:
        with pytest.raises(t.TransitionRefused, match=words):
            t.save_grade(grading, {"base": bad}, by=colorist)
    assert GradeRecord.objects.get(run=grading).base["cdl"] == CDL  # nothing changed
    with pytest.raises(t.NotAllowed):
        t.save_grade(grading, {"base": {}}, by=people["restorer"])


def _set_cuts(source, cuts: list[int]) -> None:
    analysis = dict(source.analysis)
    analysis["report"] = {**analysis["report"], "cuts": cuts}
    type(source).objects.filter(pk=source.pk).update(analysis=analysis)


def test_shots_from_cuts_grades_and_copies(people, grading):
    colorist = people["colorist"]
    source = t.save_grade(grading, {"base": {}}, by=colorist).source
    _set_cuts(source, [])
    shots = t.shots_from_cuts(grading, by=colorist)
    assert [(s.first_frame, s.last_frame) for s in shots] == [
        (source.first_frame, source.last_frame)]  # no cut: one shot
    shot = t.set_shot_grade(shots[0], CDL, by=colorist)
    assert shot.cdl == CDL
    with pytest.raises(t.TransitionRefused, match="shot 1 CDL: power"):
        t.set_shot_grade(shot, {**CDL, "power": [0, 1, 1]}, by=colorist)
    with pytest.raises(t.TransitionRefused, match="no shot numbered 7"):
        t.copy_shot_grade(shot, [7], by=colorist)
    verbs = list(Event.objects.filter(run=grading).values_list("verb", flat=True))
    assert verbs.count("shots_set") == 1 and verbs.count("shot_graded") == 1
    assert Event.objects.filter(run=grading, verb="shot_graded").get().digest == \
        t.current_digest(grading)


def test_shots_follow_the_cuts_of_the_analysis(people, grading):
    record = t.save_grade(grading, {"base": {}}, by=people["colorist"])
    source = record.source
    _set_cuts(source, [source.last_frame])
    shots = t.shots_from_cuts(grading, by=people["colorist"])
    assert [(s.number, s.first_frame, s.last_frame) for s in shots] == [
        (1, source.first_frame, source.last_frame - 1), (2, source.last_frame, source.last_frame)]
    assert Shot.objects.filter(record=record).count() == 2
    first, second = shots
    t.set_shot_grade(first, CDL, by=people["colorist"])
    assert t.copy_shot_grade(first, [2], by=people["colorist"]) == 1
    assert Shot.objects.get(pk=second.pk).cdl == CDL
    assert Event.objects.filter(run=grading, verb="grade_copied").get().data["to"] == [2]
