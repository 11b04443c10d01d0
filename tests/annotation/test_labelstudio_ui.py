"""The labeling UI in headless Chromium against the REAL Label Studio (conftest.py), as an annotator.

Log in as an annotator made by `add_annotator`, close the guidelines shown before the first
task, label two entities (G = GPE) and an event trigger (Shift+S, a label inside a collapsed
ACLED group) by hotkey and mouse drag, relate them with Alt+R and choose the single relation
label, submit, `pull`, and check the record's offsets and labels against the article text.
Screenshots go to tests/annotation/artifacts/ (git-ignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from conflictnews.annotation.labelstudio import Connection, add_annotator, pull, push
from conflictnews.annotation.records import annotation_path, load_annotation
from conflictnews.annotation.render import render_instructions
from conflictnews.corpus.records import Article
from conflictnews.paths import ProjectPaths
from tests.conftest import REPO_ROOT, SEED_ID

pytestmark = pytest.mark.labelstudio
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("CONFLICTNEWS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
if not (Path(CHROMIUM).exists() or shutil.which("chromium")) and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

_SELECT = """([needle]) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const i = node.data.indexOf(needle);
    if (i >= 0 && node.parentElement.closest('.htx-richtext, [class*=richtext]')) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + needle.length);
      const box = range.getClientRects()[0];
      return {x: box.left, y: box.top + box.height / 2, w: box.width};
    }
  }
  return null;
}"""


def drag_over(page, needle: str) -> None:
    """Select the first on-screen occurrence of `needle` in the article with a real mouse drag."""
    box = page.evaluate(_SELECT, [needle])
    assert box, f"{needle!r} not on screen"
    page.mouse.move(box["x"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, box["y"], steps=5)
    page.mouse.up()


def test_annotator_labels_relates_submits_and_pull_gets_it(
    label_studio: Connection, corpus_copy: ProjectPaths, seed_article: Article, project_title: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    guidelines = (REPO_ROOT / "annotation" / "GUIDELINES.md").read_text(encoding="utf-8")
    report = push(label_studio, [seed_article], title=project_title, instructions=render_instructions(guidelines))
    account = add_annotator(label_studio, f"ui-{uuid.uuid4().hex[:8]}@conflictnews.test")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(account.login_url)
        page.fill("input[name=email]", account.email)
        page.fill("input[name=password]", account.password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{label_studio.url}/projects/{report.project_id}/data?labeling=1")
        page.wait_for_selector("text=Labeling Instructions", timeout=120_000)  # guidelines first
        assert page.get_by_text("conflictnews annotation guidelines").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "ui-1-instructions.png"))
        header = page.get_by_text("Labeling Instructions").first.bounding_box()
        page.mouse.click(1007, header["y"] + header["height"] / 2)  # the dialog's close (x) button
        page.wait_for_selector("text=ARMED_GROUP", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "ui-2-task.png"))

        page.keyboard.press("g")
        drag_over(page, "Russia")
        page.keyboard.press("g")
        drag_over(page, "Iran")
        page.keyboard.press("Shift+S")  # SHELLING_ARTILLERY_MISSILE_ATTACK, its group collapsed
        drag_over(page, "bombardment")
        page.locator("span.htx-highlight", has_text="Russia").first.click()
        page.keyboard.press("Alt+r")  # the relation hotkey the on-screen help names
        page.locator("span.htx-highlight", has_text="Iran").first.click()
        page.get_by_text("Relations", exact=True).first.click()
        page.locator(".lsf-relations__item").first.hover()
        page.locator(".lsf-relations__item button").first.click()
        page.locator("[class*=select]").last.click()
        page.get_by_text("SUPPORTS", exact=True).last.click()
        page.screenshot(path=str(ARTIFACTS / "ui-3-labelled.png"))
        page.locator('button:has-text("Submit")').first.click()
        page.wait_for_timeout(2500)
        page.screenshot(path=str(ARTIFACTS / "ui-4-submitted.png"))
        browser.close()

    pulled = pull(label_studio, {seed_article.id: seed_article}, corpus_copy.annotations, title=project_title)
    assert pulled.counts_in == pulled.counts_out
    record = load_annotation(annotation_path(corpus_copy.annotations, SEED_ID, account.email))
    text = seed_article.require_text()

    def at(needle: str) -> tuple[int, int]:
        start = text.index(needle)
        return (start, start + len(needle))

    assert record.status == "completed" and record.provenance.annotation_pass == 1
    assert sorted((s.start, s.end, s.label, s.text) for s in record.entities) == sorted(
        [(*at("Russia"), "GPE", "Russia"), (*at("Iran"), "GPE", "Iran")]
    )
    assert [(s.start, s.end, s.label) for s in record.events] == [
        (*at("bombardment"), "SHELLING_ARTILLERY_MISSILE_ATTACK")
    ]
    by_id = record.span_by_id()
    assert [(by_id[r.holder].text, by_id[r.target].text, r.label) for r in record.stances] == [
        ("Russia", "Iran", "SUPPORTS")
    ]
