"""The grading stage: the base grade and per-shot CDLs checked by name, shots from the scene
cuts, copies between shots; every change an event bound to the work's digest."""
from __future__ import annotations

import pytest

from tests.conftest import signed_off_run
from workflow import transitions as t
from workflow.models import Event, GradeRecord, Job, Shot, Stage
from workflow.runner import inline_jobs

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


# Render, LUT, EDL, preview ------------------------------------------------------------------

def _cube(path, size: int = 5) -> None:
    """A 3D .cube that darkens and warms, red fastest."""
    lines = ['TITLE "test warm"', f"LUT_3D_SIZE {size}"]
    for b in range(size):
        for g in range(size):
            for r in range(size):
                v = [r / (size - 1), g / (size - 1), b / (size - 1)]
                lines.append(f"{min(1, v[0] * 0.95 + 0.02):.6f} {v[1] * 0.9:.6f} {v[2] * 0.8:.6f}")
    path.write_text("\n".join(lines) + "\n")


def _cli_grade(source, out, frames, cdl, lut, out_space, tmp_path) -> None:
    import json as _json
    import subprocess
    import sys

    from restoration.interchange import CDL as CDLValue
    from restoration.interchange import write_cc

    args = [sys.executable, "-m", "restoration", "grade", str(source), str(out),
            "--frames", f"{frames[0]}-{frames[1]}", "--lut", str(lut), "--out-space", out_space,
            "--json"]
    if cdl:
        cc = tmp_path / f"{frames[0]}.cc"
        write_cc(CDLValue(tuple(cdl["slope"]), tuple(cdl["offset"]), tuple(cdl["power"]),
                          cdl["saturation"], id="x"), cc)
        args += ["--cdl", str(cc)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _json.loads(r.stdout)["frames_written"] == frames[1] - frames[0] + 1


def test_render_grades_shot_by_shot_and_the_sign_off_binds_it(people, grading, client,
                                                              tmp_path):
    import hashlib
    import json
    from pathlib import Path

    from django.urls import reverse

    from tests.conftest import PASSWORD
    from workflow.runner import inline_jobs

    colorist = people["colorist"]
    record = t.save_grade(grading, {"base": {"cdl": CDL, "out_space": "rec709"}}, by=colorist)
    source = record.source
    _set_cuts(source, [source.last_frame])
    first, second = t.shots_from_cuts(grading, by=colorist)
    own = {"slope": [0.8, 1.2, 1.0], "offset": [0, 0, 0.02], "power": [1.1, 1, 0.9],
           "saturation": 1.3}
    t.set_shot_grade(second, own, by=colorist)
    # a LUT uploaded through the page is stored under its digest and checked by reading it
    lut = tmp_path / "warm.cube"
    _cube(lut)
    client.login(username="colorist", password=PASSWORD)
    with lut.open("rb") as fh:
        response = client.post(reverse("workflow:attach_lut", args=[grading.reel_id, grading.pk]),
                               {"file": fh})
    assert response.status_code == 302
    stored = GradeRecord.objects.get(run=grading).base["lut"]
    assert stored["sha256"] == hashlib.sha256(lut.read_bytes()).hexdigest()
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 3\n0 0 0\n")
    with bad.open("rb") as fh:
        response = client.post(reverse("workflow:attach_lut", args=[grading.reel_id, grading.pk]),
                               {"file": fh}, follow=True)
    page = response.content.decode()
    assert 'class="error"' in page and "bad.cube" in page  # the reason, named, on the page
    assert GradeRecord.objects.get(run=grading).base["lut"] == stored  # kept

    with pytest.raises(t.TransitionRefused, match="render the grade"):
        t.sign_off(grading, by=colorist)
    with inline_jobs():
        seq = t.start_grade_render(grading, by=colorist)
    seq.refresh_from_db()
    assert seq.kind == "graded" and seq.state == "valid", seq.error
    assert seq.bit_depth == 16 and seq.frame_count == source.frame_count
    # the same bytes as the command line, shot by shot, with each shot's CDL
    reference = tmp_path / "cli"
    _cli_grade(Path(source.root_path), reference, (first.first_frame, first.last_frame), CDL,
               lut, "rec709", tmp_path)
    _cli_grade(Path(source.root_path), reference, (second.first_frame, second.last_frame), own,
               lut, "rec709", tmp_path)
    names = sorted(p.name for p in Path(seq.root_path).iterdir())
    assert names == sorted(p.name for p in reference.iterdir() if p.suffix == ".dpx")
    for name in names:
        assert (Path(seq.root_path) / name).read_bytes() == (reference / name).read_bytes()
    prov = json.loads((Path(seq.storage_dir) / "provenance.json").read_text())
    assert prov["base"]["lut"]["sha256"] == stored["sha256"]
    assert prov["shots"][1]["cdl"] == own and prov["applied"]["2"]["grade"]["order"] == [
        "cdl", "lut", "conversion"]
    assert "opencolorio" in prov["applied"]["1"]["grade"]["versions"]
    # the page shows a graded still per shot with its scopes
    fragment = client.get(reverse("workflow:shot_preview",
                                  args=[grading.reel_id, grading.pk, 2])).content.decode()
    assert "after.jpg" in fragment and "scope_vectorscope.png" in fragment
    key = fragment.split("grading-previews/")[1].split("/")[0]
    image = client.get(reverse("workflow:grading_preview_image",
                               args=[grading.reel_id, key, "scope_waveform.png"]))
    assert image.status_code == 200 and b"".join(image.streaming_content)[:4] == b"\x89PNG"
    # a change after the render must be rendered again before the sign-off
    t.set_shot_grade(first, own, by=colorist)
    with pytest.raises(t.TransitionRefused, match="changed after the render"):
        t.sign_off(grading, by=colorist)
    t.set_shot_grade(first, None, by=colorist)
    run = t.sign_off(grading, by=colorist)
    assert seq.manifest_digest in json.dumps(t._work(run))
    client.login(username="supervisor", password=PASSWORD)
    queue = client.get(reverse("workflow:queue")).content.decode()
    row = queue[queue.index(f'id="run-{grading.pk}"'):]
    assert "2 shots" in row and "LUT warm.cube" in row and "to rec709" in row


def test_shots_from_an_edl_carry_its_cdls_and_report_what_grading_cannot_do(people, grading,
                                                                           tmp_path):
    colorist = people["colorist"]
    source = t.save_grade(grading, {"base": {}}, by=colorist).source
    edl = tmp_path / "reel.edl"
    edl.write_text(
        "TITLE: TEST\nFCM: NON-DROP FRAME\n\n"
        "001  A001     V     C        00:00:10:00 00:00:10:01 01:00:00:00 01:00:00:01\n"
        "* FROM CLIP NAME: opening\n"
        "* ASC_SOP (1.1 1.0 0.9)(0.01 0.0 -0.01)(1.0 1.05 1.0)\n* ASC_SAT 0.9\n\n"
        "002  A002     V     C        00:00:20:00 00:00:20:01 01:00:00:01 01:00:00:02\n"
        "M2   A002       048.0                00:00:20:00\n"
        "* FROM CLIP NAME: second\n")
    shots = t.shots_from_edl(grading, edl, by=colorist)
    assert [(s.first_frame, s.last_frame, s.name) for s in shots] == [
        (source.first_frame, source.first_frame, "opening"),
        (source.first_frame + 1, source.first_frame + 1, "second")]
    assert shots[0].cdl == CDL and shots[1].cdl is None
    assert "speed" in shots[1].note.lower()  # reported on the shot, not dropped
    broken = tmp_path / "broken.edl"
    broken.write_text("001  A001  V  C  00:00:10:00 00:00:10:01 01:00:00:00\n")
    with pytest.raises(t.TransitionRefused, match="broken.edl"):
        t.shots_from_edl(grading, broken, by=colorist)
    assert Shot.objects.filter(record__run=grading).count() == 2  # the shots are kept


def test_an_interrupted_render_resumes_only_the_chunks_left(people, grading, settings):
    from pathlib import Path

    import django_rq

    from workflow import runner

    colorist = people["colorist"]
    t.save_grade(grading, {"base": {"cdl": CDL}}, by=colorist)
    settings.JOBS_BACKEND = "rq"  # queued, no worker: the render waits
    settings.GRADE_CHUNK_FRAMES = 1
    django_rq.get_connection("cpu").flushdb()
    seq = t.start_grade_render(grading, by=colorist)
    chunks = list(Job.objects.filter(kind="grade_chunk", args__sequence=seq.pk).order_by("pk"))
    assert len(chunks) == seq.frame_count == 2
    runner.run_now(chunks[0].pk)  # one chunk done, then the worker is gone
    django_rq.get_connection("cpu").flushdb()
    settings.JOBS_BACKEND = "thread"
    with inline_jobs():
        t.resume_render(seq, by=colorist)
    seq.refresh_from_db()
    assert seq.state == "valid", seq.error
    redone = Job.objects.filter(kind="grade_chunk", args__sequence=seq.pk).exclude(
        pk__in=[c.pk for c in chunks])
    assert [(j.args["start"], j.state) for j in redone] == [(1, "done")]  # only the one left
    assert len(list(Path(seq.root_path).iterdir())) == 2
    assert Event.objects.filter(run=grading, verb="render_resumed").count() == 1


def test_render_progress_counts_graded_frames(people, grading, client, settings):
    from django.urls import reverse

    from tests.conftest import PASSWORD

    t.save_grade(grading, {"base": {"cdl": CDL}}, by=people["colorist"])
    settings.GRADE_CHUNK_FRAMES = 1
    with inline_jobs():
        seq = t.start_grade_render(grading, by=people["colorist"])
    client.login(username="colorist", password=PASSWORD)
    bar = client.get(reverse("workflow:sequence_progress", args=[grading.reel_id, seq.pk]))
    assert "2 of 2 frames graded" in bar.content.decode()
