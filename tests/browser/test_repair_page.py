"""The repair page in a real browser: a restorer saves the recipe, previews a few frames, and
compares before and after with the slider, the toggle, the frame buttons and a click on an
analysis chart; a click on the scan's charts shows that frame."""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re  # noqa: E402

import pytest  # noqa: E402

from tests.browser.test_journey import _log_in, _page, browser, expect  # noqa: E402,F401
from tests.integration.test_repair_stage import repair_run_for, write_film  # noqa: E402
from workflow.models import Job, RepairRecord  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_preview_before_and_after(live_server, browser, people, settings):  # noqa: F811
    settings.JOBS_BACKEND = "thread"  # the live server runs the preview on its own threads
    folder = settings.INGEST_ROOTS[0] / "film"
    write_film(folder, range(1001, 1013))
    run = repair_run_for(people, folder)
    base, path = live_server.url, run.reel.get_absolute_url()
    context, page = _page(browser)
    try:
        _log_in(page, base, "restorer", path)
        page.locator("#repair-form").get_by_role("button", name="Save recipe").click()
        expect(page.locator("ul.messages li.success")).to_have_text("Recipe saved.")
        assert RepairRecord.objects.get(run=run).recipe  # the default recipe, stored

        # a click on the scan's analysis shows the frame under the pointer
        chart = page.locator('.scan-charts .chart[data-metric="mean_luma"] svg')
        box = chart.bounding_box()
        chart.click(position={"x": box["width"] - 2, "y": box["height"] / 2})
        shown = page.locator(".scan-charts .chart-frame")
        expect(shown).to_be_visible()
        expect(shown.locator("figcaption")).to_have_text("frame 1012")
        page.wait_for_function(
            "document.querySelector('.scan-charts .chart-frame img').naturalWidth > 0")

        page.fill("#id_first", "1002")
        page.fill("#id_last", "1006")
        page.get_by_role("button", name="Preview the saved recipe").click()
        viewer = page.locator("#before-after")
        expect(viewer).to_be_visible(timeout=90_000)  # the page reloads itself when it is ready
        assert Job.objects.get(kind="repair_preview").state == "done"

        compare = viewer.locator(".compare")
        split = "getComputedStyle(document.querySelector('.compare')).getPropertyValue('--split')"
        viewer.locator("input[type=range]").fill("80")
        assert page.evaluate(split).strip() == "80%"
        viewer.get_by_role("button", name="before").click()
        assert page.evaluate(split).strip() == "0%"
        viewer.get_by_role("button", name="after").click()
        assert page.evaluate(split).strip() == "100%"
        viewer.get_by_role("button", name="1004").click()
        expect(viewer.locator(".frame-no")).to_have_text("1004")
        expect(compare.locator("img.before")).to_have_attribute("src", re.compile(r"before-1004\.jpg$"))
        expect(compare.locator("img.after")).to_have_attribute("src", re.compile(r"after-1004\.jpg$"))
        # a click at the left end of a before/after chart picks the first frame of the preview
        chart = page.locator('#repair-preview .chart[data-metric="flicker"] svg')
        box = chart.bounding_box()
        chart.click(position={"x": 1, "y": box["height"] / 2})
        expect(viewer.locator(".frame-no")).to_have_text("1002")
        page.wait_for_function(
            "document.querySelector('#before-after img.after').naturalWidth > 0")
    finally:
        context.close()
