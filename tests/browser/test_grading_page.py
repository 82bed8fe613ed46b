"""The grading page in a real browser: a colourist sets the shots from the scene cuts and the
graded still of a shot, before and after, arrives with its four scopes."""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

from tests.browser.test_journey import _log_in, _page, browser, expect  # noqa: E402,F401
from tests.conftest import signed_off_run  # noqa: E402
from workflow import transitions as t  # noqa: E402
from workflow.models import Shot, Stage  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shot_still_and_scopes(live_server, browser, people, settings):  # noqa: F811
    settings.JOBS_BACKEND = "thread"
    run = t.approve_stage(signed_off_run(people, Stage.REPAIR), by=people["supervisor"])
    base, path = live_server.url, run.reel.get_absolute_url()
    context, page = _page(browser)
    try:
        _log_in(page, base, "colorist", path)
        page.locator("#grade-form").get_by_role("button", name="Save base grade").click()
        expect(page.locator("ul.messages li.success")).to_have_text("Base grade saved.")
        page.get_by_role("button", name="Shots from the scene cuts").click()
        expect(page.locator("ul.messages li.success")).to_have_text(
            "Shots set from the scene cuts.")
        assert Shot.objects.filter(record__run=run).exists()
        still = page.locator("#shot-1 .grade-still")
        expect(still).to_be_visible()  # fetched by htmx when the shot's panel loads
        for name in ("before", "graded", "waveform", "parade", "vectorscope", "histogram"):
            image = still.locator(f"img[alt$='{name}']").first
            expect(image).to_be_visible()
        page.wait_for_function(
            "[...document.querySelectorAll('#shot-1 .grade-still img')]"
            ".every(i => i.complete && i.naturalWidth > 0)")
    finally:
        context.close()
