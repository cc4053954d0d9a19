"""A real browser for the web tier's tests: Debian's Chromium driven by Playwright, axe-core checks,
and screenshots for the README (docs/screenshots/, with FMC_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.async_api import Page, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
# The README's screenshots are re-taken into docs/screenshots/ only when asked
# (FMC_UPDATE_SCREENSHOTS=1): an ordinary test run leaves the work tree as it was.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("FMC_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "fmc-screenshots"
)
# Playwright's own browser download cannot work on our machines: Debian's package is the browser.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# axe-core as the PyPI package axe-playwright-python ships it (axe.min.js), pinned in constraints.txt.
AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PHONE: ViewportSize = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of WCAG 2.1 A/AA on the page as it is now.

    Injected through the DevTools protocol (``evaluate``), which the page's Content-Security-Policy
    does not govern: the page under test keeps its real policy."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE_SCRIPT)
    result = await page.evaluate(
        "options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def assert_accessible(page: Page) -> None:
    found = await accessibility_violations(page)
    assert not found, f"{page.url}: {json.dumps(found, ensure_ascii=False)}"


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
