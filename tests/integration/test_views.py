"""Views: who may see and do what, on the server, and what the pages then show."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests.conftest import INSPECTION, make_reel, signed_off_run
from workflow import transitions as t
from workflow.models import Event, Inspection, InspectionPhoto, Job, StageRun, Status

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
    data = {**{k: ("" if v is None else v) for k, v in INSPECTION.items()}, "vinegar_level": "9",
            "shrinkage_pct": "abc", "machine": "Lipsner-Smith CF8200", "splice_count": "12"}
    response = client.post(run_url("save_work", run), data)
    # the same page again, not a redirect that throws the typing away
    assert response.status_code == 400
    page = response.content.decode()
    assert "vinegar syndrome" in page.lower() and "shrinkage" in page.lower()
    assert "Not saved" in page
    # each error sits beside its field
    assert 'id="id_vinegar_level_error"' in page and 'id="id_shrinkage_pct_error"' in page
    assert "less than or equal to 3" in page
    # what was typed is shown back, the bad values included
    assert 'name="vinegar_level" value="9"' in page
    assert 'name="machine" value="Lipsner-Smith CF8200"' in page
    assert 'name="splice_count" value="12"' in page
    assert StageRun.objects.get(pk=run.pk).status == Status.OPEN
    assert Event.objects.filter(reel=run.reel).count() == 1
    assert not Inspection.objects.filter(run=run).exists()


def test_inspection_number_inputs_carry_their_bounds(client, people, run):
    page = login(client, people["technician"]).get(run.reel.get_absolute_url()).content.decode()

    def tag(name):
        start = page.index(f'name="{name}"')
        return page[page.rindex("<", 0, start):page.index(">", start)]

    assert 'min="0"' in tag("vinegar_level") and 'max="3"' in tag("vinegar_level")
    shrinkage = tag("shrinkage_pct")
    assert 'min="0"' in shrinkage and 'max="10"' in shrinkage and 'step="0.01"' in shrinkage
    assert 'min="0"' in tag("tears") and 'min="0"' in tag("splice_count")


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
    assert "inspection &amp; cleaning approved; scan is open" in response.content.decode()
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
    assert "inspection &amp; cleaning approved; scan is open" in body
    # the header's queue count is told to look again
    assert response["HX-Trigger"] == "queue-changed"
    second = client.post(run_url("approve", signed), HTTP_HX_REQUEST="true").content.decode()
    assert "already approved by supervisor" in second and 'role="alert"' in second


def test_inline_return_needs_a_reason(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    body = client.post(run_url("return", signed), {"to_stage": "inspection", "reason": " "},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "Not returned" in body and "say why" in body
    # the Return box stays open, so the reason can be given at once
    assert "<details open>" in body
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF
    response = client.post(run_url("return", signed), {"to_stage": "inspection",
                                                         "reason": "warped"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "returned; inspection &amp; cleaning is open again" in body
    assert response["HX-Trigger"] == "queue-changed"
    assert StageRun.objects.get(pk=signed.pk).status == Status.RETURNED


def test_return_without_reason_from_the_reel_page_keeps_the_box_open(client, people):
    signed = signed_off_run(people)
    login(client, people["supervisor"])
    response = client.post(run_url("return", signed), {"to_stage": "inspection", "reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "<details open>" in page and "say why the work is returned" in page
    assert StageRun.objects.get(pk=signed.pk).status == Status.SIGNED_OFF


def test_queue_count_listens_for_queue_changes(client, people):
    page = login(client, people["supervisor"]).get(reverse("workflow:dashboard")).content.decode()
    assert 'hx-trigger="load, every 20s, queue-changed from:body"' in page


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


# Photos: the pending card asks again until its thumbnail is made ---------------------------

def _photo(run, people, caption="head of the reel") -> InspectionPhoto:
    inspection = t.save_inspection(run, {"notes": "x"}, by=people["technician"])
    return InspectionPhoto.objects.create(
        inspection=inspection, image="photos/x/ab/abc.png", sha256="ab" * 32, ext="png",
        caption=caption, original_name="head.png", uploaded_by=people["technician"])


def test_pending_photo_card_polls_until_its_thumbnail_exists(client, people, run):
    photo = _photo(run, people)
    card_url = reverse("workflow:photo_card", args=[photo.pk])
    login(client, people["technician"])
    page = client.get(run.reel.get_absolute_url()).content.decode()
    assert f'hx-get="{card_url}"' in page and 'data-thumbnail="pending"' in page
    card = client.get(card_url).content.decode()
    assert f'id="photo-{photo.pk}"' in card
    assert f'hx-get="{card_url}"' in card and 'hx-trigger="every 2s"' in card
    assert card.count("head of the reel") == 1  # the caption once, not twice
    InspectionPhoto.objects.filter(pk=photo.pk).update(thumbnail="photos/x/ab/abc.thumb.jpg")
    card = client.get(card_url).content.decode()
    assert "hx-get" not in card and 'data-thumbnail="ready"' in card
    assert reverse("workflow:photo", args=[photo.pk, "thumb"]) in card
    assert card.count("head of the reel") == 1


def test_photo_card_stops_asking_when_its_job_failed(client, people, run):
    photo = _photo(run, people)
    Job.objects.create(kind="thumbnail_photo", reel=run.reel, run=run, state="failed",
                       args={"photo": photo.pk}, error="broken")
    card = login(client, people["technician"]).get(
        reverse("workflow:photo_card", args=[photo.pk])).content.decode()
    assert "hx-get" not in card and 'data-thumbnail="failed"' in card


def test_photo_card_is_get_only_and_staff_only(client, people, run):
    photo = _photo(run, people)
    card_url = reverse("workflow:photo_card", args=[photo.pk])
    assert login(client, people["outsider"]).get(card_url).status_code == 403
    assert login(client, people["technician"]).post(card_url).status_code == 405


# Jobs on the reel page ---------------------------------------------------------------------

def test_reel_page_shows_current_jobs_and_hides_earlier_ones(client, people):
    signed = signed_off_run(people)
    scan = t.approve_stage(signed, by=people["supervisor"])
    reel = signed.reel
    old_done = Job.objects.create(kind="thumbnail_photo", reel=reel, run=signed, state="done")
    old_failed = Job.objects.create(kind="always_fails", reel=reel, run=signed, state="failed",
                                    error="failed on purpose")
    old_queued = Job.objects.create(kind="thumbnail_photo", reel=reel, run=signed)
    current = Job.objects.create(kind="thumbnail_photo", reel=reel, run=scan, state="done")
    page = login(client, people["technician"]).get(reel.get_absolute_url()).content.decode()
    jobs = page[page.index('id="jobs"'):page.index('id="runs"')]
    shown, _, earlier = jobs.partition("Earlier jobs")
    for job in (current, old_failed, old_queued):
        assert f'id="job-{job.pk}"' in shown
    assert f'id="job-{old_done.pk}"' in earlier and f'id="job-{old_done.pk}"' not in shown
    assert "<details" in shown[shown.rindex(f'id="job-{old_queued.pk}"'):]
    # job kinds by their labels
    assert "Photo thumbnail" in jobs and "Self-test failure" in jobs
    assert "thumbnail_photo" not in jobs.replace('data-', '')


def test_queued_job_names_no_worker(client, people, run):
    job = Job.objects.create(kind="thumbnail_photo", reel=run.reel, run=run, worker="old-box")
    body = login(client, people["technician"]).get(
        reverse("workflow:job", args=[job.pk])).content.decode()
    assert "on old-box" not in body and "Photo thumbnail" in body


# Wording -----------------------------------------------------------------------------------

def test_history_speaks_words(client, people):
    signed = signed_off_run(people)
    page = login(client, people["technician"]).get(signed.reel.get_absolute_url()).content.decode()
    history = page[page.index('id="history"'):]
    assert "signed off" in history and "in progress → signed off" in history
    assert "signed_off" not in history.replace('data-verb="signed_off"', "")
    assert "not_started" not in history and "in_progress" not in history
    opened = history[history.index('data-verb="opened"'):]
    opened = opened[:opened.index("</tr>")]
    assert "<td>opened</td><td>inspection &amp; cleaning</td><td>opened</td>" in opened
    # the sign-off comment is not followed by a second full stop
    assert "”." not in page


def test_header_shows_username_and_roles(client, people):
    page = login(client, people["technician"]).get(reverse("workflow:dashboard")).content.decode()
    assert 'technician <span class="roles">(technician)</span>' in page
    assert "technician · technician" not in page


def test_start_button_is_explained(client, people, run):
    page = login(client, people["technician"]).get(run.reel.get_absolute_url()).content.decode()
    assert 'name="start"' in page
    assert "Start this stage — or just save work, which starts it" in page


def test_screening_signed_off_by_a_supervisor_names_who_may_approve(client, people):
    signed = signed_off_run(people, "screening")
    page = login(client, people["technician"]).get(signed.reel.get_absolute_url()).content.decode()
    assert "Approval: any supervisor other than supervisor." in page
    assert "<h3>Sign off</h3>" in page and "<h3>Decision</h3>" in page


def test_favicon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("favicon.svg")


# The record of one run ---------------------------------------------------------------------

def test_run_page_is_for_staff_only_and_get_only(client, people):
    signed = signed_off_run(people)
    url = reverse("workflow:run", args=[signed.reel_id, signed.pk])
    assert login(client, people["outsider"]).get(url).status_code == 403
    assert login(client, people["colorist"]).post(url).status_code == 405
    other = make_reel()
    assert client.get(reverse("workflow:run", args=[other.pk, signed.pk])).status_code == 404


def test_run_page_shows_who_when_facts_and_events(client, people):
    signed = signed_off_run(people)
    t.approve_stage(signed, by=people["supervisor"])
    url = reverse("workflow:run", args=[signed.reel_id, signed.pk])
    page = login(client, people["colorist"]).get(url).content.decode()
    assert "Inspection &amp; cleaning, attempt 1" in page
    assert 'id="run-state">approved<' in page
    assert "by technician" in page and "by supervisor" in page
    assert "Splice count" in page and "particle transfer roller" in page  # the facts
    assert signed.signed_digest in page
    for verb in ("opened", "started", "edited", "signed_off", "approved"):
        assert f'data-verb="{verb}"' in page
    # reached from the reel page: its timeline box and its run history
    reel_page = client.get(signed.reel.get_absolute_url()).content.decode()
    runs = reel_page[reel_page.index('id="runs"'):reel_page.index('id="history"')]
    timeline = reel_page[reel_page.index('id="timeline"'):reel_page.index("</section>")]
    assert f'href="{url}"' in timeline and f'href="{url}"' in runs
    scan = StageRun.objects.get(reel=signed.reel, stage="scan")
    assert reverse("workflow:run", args=[signed.reel_id, scan.pk]) in runs


def test_run_page_tells_whether_the_work_still_matches_its_digest(client, people):
    signed = signed_off_run(people)
    url = reverse("workflow:run", args=[signed.reel_id, signed.pk])
    login(client, people["supervisor"])
    digest = client.get(url).content.decode()
    digest = digest[digest.index('id="run-digest"'):]
    assert "matches the stored work" in digest[:digest.index("</dd>")]
    Inspection.objects.filter(run=signed).update(tears=99)  # behind the application's back
    digest = client.get(url).content.decode()
    digest = digest[digest.index('id="run-digest"'):]
    assert "does not match the stored work" in digest[:digest.index("</dd>")]


def test_returned_run_shows_its_reason_and_the_later_attempt(client, people):
    signed = signed_off_run(people)
    t.return_reel(signed, by=people["supervisor"], to_stage="inspection", reason="warped at tail")
    again = StageRun.objects.get(reel=signed.reel, stage="inspection", attempt=2)
    page = login(client, people["technician"]).get(
        reverse("workflow:run", args=[signed.reel_id, signed.pk])).content.decode()
    assert "warped at tail" in page and "to inspection &amp; cleaning" in page
    assert reverse("workflow:run", args=[signed.reel_id, again.pk]) in page
    reel_page = client.get(signed.reel.get_absolute_url()).content.decode()
    assert "attempt 2" in reel_page[reel_page.index('id="timeline"'):]


# The queue's summary -----------------------------------------------------------------------

def test_queue_row_summarises_the_work(client, people):
    signed = signed_off_run(people)  # a nitrate reel; see conftest.INSPECTION
    StageRun.objects.filter(pk=signed.pk).update(sign_off_comment="cleaned, ready to scan")
    page = login(client, people["supervisor"]).get(reverse("workflow:queue")).content.decode()
    row = page[page.index(f'id="run-{signed.pk}"'):]
    row = row[:row.index("</tr>")]
    assert '<strong class="nitrate"' in row
    assert "vinegar 1" in row and "shrinkage 0.80 %" in row and "1 tear<" in row
    assert "mould none" in row and "attempt 1" in row and "cleaned, ready to scan" in row


# The reels list ----------------------------------------------------------------------------

def test_reel_list_shows_stage_state_and_vault_and_searches_director_and_barcode(client, people):
    open_reel = make_reel("LIST-1", vault_location="Vault C, shelf 4", barcode="RK-99812")
    t.open_first_stage(open_reel, by=people["technician"])
    signed = signed_off_run(people, reel=make_reel("LIST-2"))
    signed.reel.title.director = "Germaine Dulac"
    signed.reel.title.save()
    make_reel("LIST-3")  # catalogued only
    login(client, people["archivist"])
    page = client.get(reverse("workflow:reels")).content.decode()

    def row(accession):
        part = page[page.index(f'data-accession="{accession}"'):]
        return part[:part.index("</tr>")]

    assert "inspection &amp; cleaning" in row("LIST-1") and ">open<" in row("LIST-1")
    assert "Vault C, shelf 4" in row("LIST-1")
    assert ">signed off<" in row("LIST-2")
    assert "not in the chain yet" in row("LIST-3")
    by_director = client.get(reverse("workflow:reels") + "?q=dulac").content.decode()
    assert "LIST-2" in by_director and "LIST-1" not in by_director
    by_barcode = client.get(reverse("workflow:reels") + "?q=99812").content.decode()
    assert "LIST-1" in by_barcode and "LIST-2" not in by_barcode
