"""The inspection journey through a real browser (Debian's Chromium, driven by Playwright).

A technician logs in, records the inspection and signs it off; a supervisor finds it in the
approval queue and approves it inline; the reel page then shows the scan stage open and the
signed-off, approved and opened events. On the way: the technician is offered no Approve button,
and an approve POST forged from the technician's own session is refused with 403 and changes
nothing.
"""
from __future__ import annotations

import os

# Playwright's sync API runs an asyncio loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (it is: the loop never touches the ORM).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re  # noqa: E402
from decimal import Decimal  # noqa: E402

import playwright.sync_api as playwright_sync  # noqa: E402
import pytest  # noqa: E402

from tests.conftest import PASSWORD, make_reel  # noqa: E402
from workflow import transitions  # noqa: E402
from workflow.models import Event, Inspection, Stage, StageRun, Status  # noqa: E402

expect = playwright_sync.expect

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 10_000  # ms, for every expect and action

# No skip when Chromium is missing: .ci/run installs it, and a missing browser must fail loudly.
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            # running as root in a container: Chromium's sandbox needs user namespaces
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)
    return context, context.new_page()


def _log_in(page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}{next_path}")
    expect(page.locator("header .who")).to_contain_text(username)


def _csrf_token(context) -> str:
    token = next((c["value"] for c in context.cookies() if c["name"] == "csrftoken"), "")
    assert token, "no csrftoken cookie in the browser context"
    return token


def test_inspection_signed_off_then_approved_from_the_queue(live_server, browser, people):
    base = live_server.url
    technician, supervisor = people["technician"], people["supervisor"]
    reel = make_reel()
    run = transitions.open_first_stage(reel, by=technician)
    reel_path = reel.get_absolute_url()
    approve_path = f"/reels/{reel.pk}/runs/{run.pk}/approve/"

    tech_ctx, tech = _page(browser)
    sup_ctx, sup = _page(browser)
    try:
        # --- the technician records the inspection --------------------------------------
        _log_in(tech, base, "technician", reel_path)
        inspection_step = tech.locator('#timeline .step[data-stage="inspection"]')
        expect(inspection_step).to_have_attribute("data-state", "open")

        form = tech.locator("#current-stage #inspection-form")
        form.locator('[name="shrinkage_pct"]').fill("0.85")
        form.locator('[name="vinegar_level"]').fill("2")
        form.locator('[name="mould"]').select_option("slight")
        form.locator('[name="tears"]').fill("4")
        form.locator('[name="perforation_damage"]').select_option("moderate")
        form.locator('[name="brittleness"]').select_option("none")
        form.locator('[name="warp"]').select_option("severe")
        form.locator('[name="splice_count"]').fill("7")
        form.locator('[name="cleaning_method"]').select_option("ultrasonic")
        form.locator('[name="solvent"]').fill("perchloroethylene")
        form.locator('[name="machine"]').fill("Lipsner-Smith CF8200")
        form.locator('[name="repairs"]').fill("two splices remade")
        form.locator('[name="notes"]').fill("strong vinegar smell at the head")
        form.get_by_role("button", name="Save inspection").click()

        expect(tech.locator("ul.messages li.success")).to_have_text("Saved.")
        expect(tech.locator("ul.messages li.error")).to_have_count(0)
        expect(inspection_step).to_have_attribute("data-state", "in_progress")
        # the page shows back what was stored
        expect(form.locator('[name="cleaning_method"]')).to_have_value("ultrasonic")
        expect(form.locator('[name="splice_count"]')).to_have_value("7")

        saved = Inspection.objects.get(run=run)
        assert saved.shrinkage_pct == Decimal("0.85")
        assert (saved.vinegar_level, saved.tears, saved.splice_count) == (2, 4, 7)
        assert (saved.mould, saved.perforation_damage, saved.brittleness, saved.warp) == (
            "slight", "moderate", "none", "severe")
        assert saved.cleaning_method == "ultrasonic"
        assert saved.machine == "Lipsner-Smith CF8200"
        assert saved.notes == "strong vinegar smell at the head"

        # --- ... and signs it off ---------------------------------------------------------
        current = tech.locator("#current-stage")
        current.locator('textarea[name="comment"]').fill("cleaned, ready to scan")
        current.locator('button[name="sign_off"]').click()

        expect(tech.locator("ul.messages li.success")).to_contain_text("Signed off.")
        expect(inspection_step).to_have_attribute("data-state", "signed_off")
        expect(tech.locator("#current-state")).to_have_text("signed off")
        expect(current).to_contain_text("cleaned, ready to scan")
        expect(current.locator('button[name="sign_off"]')).to_have_count(0)
        # the work is locked once signed off
        expect(current.locator('[name="splice_count"]')).to_be_disabled()
        # the technician is offered no way to approve, on the reel page or anywhere
        expect(tech.locator('button[name="approve"]')).to_have_count(0)
        expect(tech.get_by_role("button", name="Approve")).to_have_count(0)
        expect(tech.locator("#queue-count")).to_have_count(0)  # no queue link either

        run.refresh_from_db()
        assert run.status == Status.SIGNED_OFF
        assert run.signed_off_by_id == technician.pk

        # --- a forged approve POST from the technician's own session is refused ------------
        token = _csrf_token(tech_ctx)
        events_before = Event.objects.filter(reel=reel).count()
        forged = tech.request.post(
            f"{base}{approve_path}",
            form={"csrfmiddlewaretoken": token, "next": "/queue/"},
            headers={"X-CSRFToken": token, "Referer": f"{base}{reel_path}"},
            max_redirects=0,
        )
        assert forged.status == 403, (forged.status, forged.text()[:500])
        assert "Not allowed" in forged.text()
        # the same, as htmx would send it
        forged_htmx = tech.request.post(
            f"{base}{approve_path}",
            form={"csrfmiddlewaretoken": token},
            headers={"X-CSRFToken": token, "HX-Request": "true",
                     "Referer": f"{base}/queue/"},
            max_redirects=0,
        )
        assert forged_htmx.status == 403, (forged_htmx.status, forged_htmx.text()[:500])
        # the technician cannot even open the queue
        queue_response = tech.goto(f"{base}/queue/")
        assert queue_response is not None and queue_response.status == 403
        expect(tech.locator("h1")).to_have_text("Not allowed")

        run.refresh_from_db()
        reel.refresh_from_db()
        assert run.status == Status.SIGNED_OFF
        assert run.approved_by_id is None and run.approved_at is None
        assert reel.current_stage == Stage.INSPECTION
        assert not StageRun.objects.filter(reel=reel, stage=Stage.SCAN).exists()
        assert Event.objects.filter(reel=reel).count() == events_before
        assert not Event.objects.filter(reel=reel, verb="approved").exists()

        # --- the supervisor finds it in the queue and approves it inline -------------------
        _log_in(sup, base, "supervisor", "/queue/")
        expect(sup.locator("#queue-count")).to_have_text("1")  # htmx loaded and counted it
        row = sup.locator(f"tr#run-{run.pk}")
        expect(row).to_be_visible()
        expect(row).to_contain_text(reel.accession)
        expect(row).to_contain_text("technician")
        expect(row).to_contain_text("cleaned, ready to scan")
        expect(row.locator(".done-note")).to_have_count(0)

        with sup.expect_response(
            lambda r: r.url.endswith(approve_path) and r.request.method == "POST"
        ) as answer:
            row.get_by_role("button", name="Approve").click()
        assert answer.value.status == 200
        assert answer.value.request.headers.get("hx-request") == "true"

        expected_note = f"{reel.accession}: inspection & cleaning approved; scan is open."
        expect(row.locator(".done-note")).to_have_text(expected_note)
        expect(row.get_by_role("button", name="Approve")).to_have_count(0)
        # the header's count heard the queue change, with no reload
        expect(sup.locator("#queue-count")).to_have_text("0")
        # swapped in place: still the queue, not a full-page redirect
        expect(sup).to_have_url(f"{base}/queue/")
        expect(sup.locator("tr[id^='run-']")).to_have_count(1)

        # --- the database agrees ------------------------------------------------------------
        run.refresh_from_db()
        reel.refresh_from_db()
        assert run.status == Status.APPROVED
        assert run.approved_by_id == supervisor.pk
        assert reel.current_stage == Stage.SCAN
        scan = StageRun.objects.get(reel=reel, stage=Stage.SCAN)
        assert scan.status == Status.OPEN
        assert scan.previous_id == run.pk
        verbs = list(Event.objects.filter(reel=reel).order_by("seq").values_list("verb", flat=True))
        assert verbs == ["opened", "started", "edited", "signed_off", "approved", "opened"]

        # --- the reel page shows the scan stage open and the history ------------------------
        sup.goto(f"{base}{reel_path}")
        timeline = sup.locator("#timeline")
        expect(timeline.locator('.step[data-stage="inspection"]')).to_have_attribute(
            "data-state", "approved")
        expect(timeline.locator('.step[data-stage="scan"]')).to_have_attribute("data-state", "open")
        expect(timeline.locator('.step[data-stage="repair"]')).to_have_attribute(
            "data-state", "not_started")
        expect(timeline.locator('.step[data-stage="inspection"]')).to_contain_text(
            "approved by supervisor")
        expect(sup.locator("#current-stage h2")).to_contain_text(re.compile(r"^Scan"))
        expect(sup.locator("#current-state")).to_have_text("open")

        history = sup.locator("#history")
        expect(history.locator('tr.event[data-verb="signed_off"]')).to_have_count(1)
        expect(history.locator('tr.event[data-verb="approved"]')).to_have_count(1)
        expect(history.locator('tr.event[data-verb="opened"]')).to_have_count(2)
        # newest first: the scan opening, then the approval, then the sign-off
        expect(history.locator("tr.event")).to_have_count(6)
        newest = history.locator("tr.event")
        expect(newest.nth(0)).to_have_attribute("data-verb", "opened")
        expect(newest.nth(0)).to_contain_text("scan")
        expect(newest.nth(1)).to_have_attribute("data-verb", "approved")
        expect(newest.nth(1)).to_contain_text("supervisor")
        expect(newest.nth(2)).to_have_attribute("data-verb", "signed_off")
        expect(newest.nth(2)).to_contain_text("technician")

        # the technician, back on the reel page, sees the same and still no approve button
        tech.goto(f"{base}{reel_path}")
        expect(tech.locator('#timeline .step[data-stage="scan"]')).to_have_attribute(
            "data-state", "open")
        expect(tech.locator('button[name="approve"]')).to_have_count(0)
    finally:
        tech_ctx.close()
        sup_ctx.close()
