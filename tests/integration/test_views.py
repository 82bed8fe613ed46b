"""Views: who may see and do what, on the server, and what the pages then show."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests.conftest import INSPECTION, make_reel, signed_off_run
from workflow import transitions as t
from workflow.models import Event, InspectionPhoto, Job, StageRun, Status

pytestmark = pytest.mark.django_db

GET_PAGES = ["workflow:dashboard", "workflow:reels", "workflow:collections", "workflow:titles"]
RUN_POSTS = ["start", "save_work", "add_photo", "sign_off", "withdraw", "approve", "return"]


@pytest.fixture
def run(people):
    return t.open_first_stage(make_reel(), by=people["technician"])


def run_url(name: str, run: StageRun) -> str:
    return reverse(f"workflow:{name}", args=[run.reel_id, run.pk])


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", GET_PAGES + ["workflow:queue"])
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith("/login/?next=")


def test_anonymous_post_is_sent_to_login_and_changes_nothing(client, run):
    response = client.post(run_url("start", run))
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert StageRun.objects.get(pk=run.pk).status == Status.OPEN


@pytest.mark.parametrize("name", GET_PAGES + ["workflow:queue"])
def test_outsider_gets_403(client, people, name):
    assert login(client, people["outsider"]).get(reverse(name)).status_code == 403


def test_outsider_gets_403_on_reel_page_and_every_action(client, people, run):
    login(client, people["outsider"])
    assert client.get(run.reel.get_absolute_url()).status_code == 403
    for name in RUN_POSTS:
        assert client.post(run_url(name, run)).status_code == 403, name
    assert Event.objects.filter(reel=run.reel).count() == 1


@pytest.mark.parametrize("name", RUN_POSTS)
def test_post_only_views_refuse_get(client, people, run, name):
    assert login(client, people["technician"]).get(run_url(name, run)).status_code == 405


def test_open_first_refuses_get(client, people):
    reel = make_reel()
    login(client, people["technician"])
    assert client.get(reverse("workflow:open_first", args=[reel.pk])).status_code == 405


def test_technician_records_inspection_and_signs_off_through_the_pages(client, people, run):
    login(client, people["technician"])
    data = {k: ("" if v is None else v) for k, v in INSPECTION.items()}
    response = client.post(run_url("save_work", run), data)
    assert response.status_code == 302
    response = client.post(run_url("sign_off", run), {"comment": "ready"}, follow=True)
    assert "Signed off" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.SIGNED_OFF and run.sign_off_comment == "ready"
    assert run.inspection.splice_count == 3
    verbs = list(Event.objects.filter(reel=run.reel).values_list("verb", flat=True))
    assert verbs == ["opened", "started", "edited", "signed_off"]


def test_invalid_inspection_is_reported_by_field_and_nothing_stored(client, people, run):
    login(client, people["technician"])
    data = {**{k: ("" if v is None else v) for k, v in INSPECTION.items()}, "vinegar_level": "7",
            "shrinkage_pct": "abc"}
    page = client.post(run_url("save_work", run), data, follow=True).content.decode()
    assert "vinegar syndrome" in page.lower() and "shrinkage" in page.lower()
    assert "Not saved" in page
    assert StageRun.objects.get(pk=run.pk).status == Status.OPEN
    assert Event.objects.filter(reel=run.reel).count() == 1


def test_forged_approve_post_from_technician_is_refused(client, people):
    signed = signed_off_run(people)
    login(client, people["technician"])
    page = client.get(signed.reel.get_absolute_url()).content.decode()
    assert 'name="approve"' not in page
    response = client.post(run_url("approve", signed))
    assert response.status_code == 403
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF
    assert not Event.objects.filter(reel=signed.reel, verb="approved").exists()


def test_signer_sees_no_approve_button_and_own_approval_post_is_refused(client, people):
    signed = signed_off_run(people, "screening")
    login(client, people["supervisor"])
    page = client.get(signed.reel.get_absolute_url()).content.decode()
    assert 'name="approve"' not in page and "a supervisor other than you approves it" in page
    assert client.post(run_url("approve", signed)).status_code == 403
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF


def test_supervisor_approves_from_the_reel_page(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    page = client.get(signed.reel.get_absolute_url()).content.decode()
    assert 'name="approve"' in page and "matches the stored work" in page
    response = client.post(run_url("approve", signed), follow=True)
    assert "inspection approved; scan is open" in response.content.decode()
    assert StageRun.objects.get(pk=signed.pk).status == Status.APPROVED


def test_queue_lists_oldest_first_and_hides_approve_on_own_work(client, people):
    first = signed_off_run(people)
    second = signed_off_run(people)
    own = signed_off_run(people, "screening")
    login(client, people["supervisor"])
    page = client.get(reverse("workflow:queue")).content.decode()
    assert page.index(f'id="run-{first.pk}"') < page.index(f'id="run-{second.pk}"')
    own_row = page[page.index(f'id="run-{own.pk}"'):]
    own_row = own_row[:own_row.index("</tr>")]
    assert "your own sign-off" in own_row and 'name="approve"' not in own_row
    filtered = client.get(reverse("workflow:queue") + "?stage=screening").content.decode()
    assert f'id="run-{own.pk}"' in filtered and f'id="run-{first.pk}"' not in filtered
    assert client.get(reverse("workflow:queue_count")).content == b"2"


def test_inline_approve_from_queue_with_htmx(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    response = client.post(run_url("approve", signed), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith(f'<tr id="run-{signed.pk}">')
    assert "inspection approved; scan is open" in body
    second = client.post(run_url("approve", signed), HTTP_HX_REQUEST="true").content.decode()
    assert "already approved by supervisor" in second and 'role="alert"' in second


def test_inline_return_needs_a_reason(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    body = client.post(run_url("return", signed), {"to_stage": "inspection", "reason": " "},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "Not returned" in body and "say why" in body
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF
    body = client.post(run_url("return", signed), {"to_stage": "inspection", "reason": "warped"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "returned; inspection is open again" in body
    assert StageRun.objects.get(pk=signed.pk).status == Status.RETURNED


def test_return_to_a_later_stage_is_refused(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    client.post(run_url("return", signed), {"to_stage": "grading", "reason": "x"})
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF


def test_reel_page_shows_timeline_and_history(client, people):
    signed = signed_off_run(people)
    t.approve_stage(signed, by=people["supervisor"])
    login(client, people["colorist"])
    page = client.get(signed.reel.get_absolute_url()).content.decode()
    assert 'data-stage="inspection" data-state="approved"' in page
    assert 'data-stage="scan" data-state="open"' in page
    assert 'data-stage="repair" data-state="not_started"' in page
    for verb in ("opened", "started", "edited", "signed_off", "approved"):
        assert f'data-verb="{verb}"' in page
    assert "approved by supervisor" in page


def png_bytes(size=(80, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("content,expected", [
    (b"this is not an image", "not an image"),
    (png_bytes()[:60], "damaged or incomplete"),
    (b"", "empty"),
])
def test_bad_photo_upload_is_refused_with_its_name(client, people, run, content, expected):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, people["technician"])
    upload = SimpleUploadedFile("reel-head.png", content, content_type="image/png")
    page = client.post(run_url("add_photo", run), {"photo": upload}, follow=True).content.decode()
    assert "reel-head.png" in page and expected in page
    assert not InspectionPhoto.objects.exists()


def test_good_photo_upload_is_stored_and_its_job_queued(client, people, run):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, people["technician"])
    upload = SimpleUploadedFile("reel-head.png", png_bytes(), content_type="image/png")
    client.post(run_url("add_photo", run), {"photo": upload, "caption": "head"})
    photo = InspectionPhoto.objects.get()
    assert (photo.width, photo.height, photo.caption, photo.ext) == (80, 60, "head", "png")
    assert Event.objects.filter(reel=run.reel, verb="photo_added").count() == 1
    assert Job.objects.filter(kind="thumbnail_photo", args__photo=photo.pk).count() == 1
    response = client.get(reverse("workflow:photo", args=[photo.pk, "full"]))
    assert b"".join(response.streaming_content) == png_bytes()


def test_lists_search(client, people):
    make_reel("NITRATE-77")
    make_reel("ACETATE-12")
    login(client, people["archivist"])
    page = client.get(reverse("workflow:reels") + "?q=nitrate").content.decode()
    assert "NITRATE-77" in page and "ACETATE-12" not in page
    assert "Test collection" in client.get(reverse("workflow:collections")).content.decode()
    titles = client.get(reverse("workflow:titles") + "?q=film").content.decode()
    assert "NITRATE-77" in titles


def test_dashboard_counts_and_my_work(client, people):
    signed_off_run(people)
    t.open_first_stage(make_reel(), by=people["technician"])
    login(client, people["technician"])
    page = client.get(reverse("workflow:dashboard")).content.decode()
    assert "My work" in page and "1 waiting" not in page
    login(client, people["supervisor"])
    page = client.get(reverse("workflow:dashboard")).content.decode()
    assert "1 waiting for your approval" in page
