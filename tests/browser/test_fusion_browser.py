"""Data fusion in a real browser: upload a file, preview the suggested mapping, run it,
read the report and decide the review pair side by side (Debian's Chromium, Playwright).
Screenshots go to ``build/artifacts/screenshots``; a console error fails the test."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.api.examples.fusion import CONTENT
from tests.browser.conftest import LiveServer


def test_upload_preview_run_and_review(
    open_session, live_server: LiveServer, tmp_path: Path
) -> None:
    upload = tmp_path / "webshop.csv"
    upload.write_text(CONTENT, encoding="utf-8")
    s = open_session()
    s.login("ann@example.com")
    s.go("/imports/fusion")
    page = s.page
    page.get_by_label("A customer file (.csv, .json, .jsonl)").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and suggest a mapping").click()
    expect(page.get_by_role("heading", name="Map webshop")).to_be_visible()
    expect(page.get_by_label("Mapping (YAML)")).to_contain_text('external_id: "id"')
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Preview (nothing written)")).to_be_visible()
    expect(page.get_by_text("webshop:6: email:")).to_be_visible()
    s.shot("fusion-preview")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Fusion run")).to_be_visible()
    s.shot("fusion-run")
    page.get_by_role("link", name="Review queue").click()
    pair = page.locator(".review-pair").first
    expect(pair).to_contain_text("Brandt")
    s.shot("fusion-review")
    pair.get_by_role("button", name="Different customers").click()
    expect(page.get_by_text("No pair waits for a decision.")).to_be_visible()
    assert live_server.book.fusion.review.list(status="rejected")[0].status == "rejected"
    s.assert_clean()
