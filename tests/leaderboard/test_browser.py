"""Browser test: headless Debian Chromium driven by Playwright against a real uvicorn server.

Open the leaderboard, upload a SYNTHETIC bundle through the form, follow the submission page
until it is scored, and find the new row ranked on the leaderboard. Screenshots are saved to
tests/leaderboard/artifacts/ (a CI artifact; git-ignored). Skipped only when Chromium is absent
and $CI is unset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, Bundles, start_server, unique

CHROMIUM = os.environ.get("CONFLICTNEWS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not (Path(CHROMIUM).exists() or shutil.which("chromium")) and not os.environ.get("CI"):
    pytest.skip(
        "chromium is not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def test_upload_through_the_form_and_see_the_row_ranked(
    browser, bundles: Bundles, releases: Path, tmp_path: Path
) -> None:
    server = start_server("sqlite", tmp_path, releases)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        # two entries already on the board: a strong one and a weak one
        other = server.user(unique("browser-other"))
        for name, noise in (("strong entry", 0.0), ("weak entry", 0.9)):
            assert (
                server.post(other, bundles.archive(name, noise=noise, seed=11)).status_code == 202
            )
        token = server.user(unique("browser-user"))
        model = unique("browser model")
        bundle_path = tmp_path / "my-bundle.zip"
        bundle_path.write_bytes(bundles.archive(model, noise=0.3, seed=12))

        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(server.url + "/")
        assert page.title() == "conflictnews leaderboard"
        page.click("text=Submit")
        page.set_input_files("#bundle", str(bundle_path))
        page.fill("#token", token)
        page.screenshot(path=str(ARTIFACTS / "submit-form.png"))
        page.click("#upload")
        page.wait_for_url("**/submissions/*")
        page.wait_for_selector(
            "#state.state-scored", timeout=60_000
        )  # the page refreshes until scored
        assert page.locator("tr[data-task]").count() == 4
        page.screenshot(path=str(ARTIFACTS / "submission-scored.png"), full_page=True)

        page.click("text=Back to the leaderboard")
        row = page.locator("#leaderboard tbody tr", has_text=model)
        row.wait_for()
        rank = int(row.get_attribute("data-rank"))
        names = page.locator("#leaderboard tbody td.model > a:first-child").all_inner_texts()
        assert names.index(model) + 1 == rank
        assert names[0] == "strong entry" and names[-1] == "weak entry"  # ranked between them
        assert rank == 2
        assert "[" in row.inner_text()  # its CIs are shown
        page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)

        # sorting by a task and filtering by version
        # both controls navigate; wait for the new URL, not for a load state the old page already has
        page.click("#leaderboard thead >> text=stance")
        page.wait_for_url("**sort=stance*")
        assert page.locator("#leaderboard").get_attribute("data-sort") == "stance"
        page.select_option("#version", "0.2.0")
        page.wait_for_url("**version=0.2.0*")
        assert "No scored submissions" in page.inner_text("#leaderboard")

        # one row per model: a second submission of the same model keeps one row, "2 submissions"
        response = server.post(token, bundles.archive(model, noise=0.35, seed=13))
        assert response.status_code == 202, response.text
        assert server.wait(response.json()["id"], token)["state"] == "scored"
        page.goto(server.url + "/?version=0.1.0")
        rows = page.locator("#leaderboard tbody tr", has_text=model)
        assert rows.count() == 1
        assert "2 submissions" in rows.inner_text()
        page.click(f"#leaderboard tbody tr:has-text('{model}') a.history")
        page.wait_for_url("**/models/*")
        assert page.locator("#history tbody tr").count() == 2
        assert model in page.inner_text("#model-name")
        page.screenshot(path=str(ARTIFACTS / "model-history.png"), full_page=True)

        # phone width: the table scrolls inside its box, the page itself does not overflow
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(server.url + "/?version=0.1.0")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page overflows a phone by {overflow}px"
        phone.screenshot(path=str(ARTIFACTS / "leaderboard-phone.png"), full_page=True)
        phone.close()

        # a bad upload shows the error on the form
        page.goto(server.url + "/submit")
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"not a zip")
        page.set_input_files("#bundle", str(bad))
        page.fill("#token", token)
        page.click("#upload")
        assert "not a zip archive" in page.inner_text("#error")
    finally:
        server.close()
