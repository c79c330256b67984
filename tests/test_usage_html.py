"""The HTML usage report: one self-contained file, names escaped, and what a real browser
(headless Chromium from the OS packages) shows of it: the department bars in their colours
where they belong, and the SVG elements in the DOM it builds."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from reconciler.audit.model import AuditFinding
from reconciler.render.usage_html import (
    CHART_WIDTH,
    LABEL_WIDTH,
    SENT_COLOUR,
    STORAGE_COLOUR,
    render_usage_html,
)
from reconciler.usage.model import DayFigures, DepartmentUsage, PersonUsage, UsageSummary

TODAY = dt.date(2026, 11, 29)
EVIL = '<script>alert("x")</script>'
EVIL_DEPARTMENT = '"><svg onload=alert(1)>&amp;'
WIDTH, HEIGHT = 1200, 900


def summary() -> UsageSummary:
    history = [DayFigures(date=TODAY - dt.timedelta(days=90 - n), used_mb=1_000 + 10 * n, sent=n % 7,
                          received=10) for n in range(90)]
    people = [
        PersonUsage(address="ann@acme.com", name=EVIL, department=EVIL_DEPARTMENT, licenses=["std"], used_mb=1_900,
                    quota_mb=10_000, percent=19.0, growth_mb_30d=300, sent={"7d": 21, "30d": 90, "90d": 270},
                    received={"7d": 70, "30d": 300, "90d": 900}, history=history),
        PersonUsage(address="bo@acme.com", name="薄 波", department="销售部", used_mb=10_000, quota_mb=10_000,
                    percent=100.0, sent={"7d": 3_500, "30d": 15_000, "90d": 45_000},
                    received={"7d": 70, "30d": 300, "90d": 900}),
    ]
    departments = [
        DepartmentUsage(department="销售部", people=1, used_mb=10_000, quota_mb=10_000,
                        sent={"7d": 3_500, "30d": 15_000, "90d": 45_000}, received={"7d": 70}),
        DepartmentUsage(department=EVIL_DEPARTMENT, people=1, used_mb=1_900, quota_mb=10_000,
                        sent={"7d": 21, "30d": 90, "90d": 270}, received={"7d": 70}),
    ]
    finding = AuditFinding(code="heavy-sender", severity="high", subject="bo@acme.com",
                           message=f"bo@acme.com sent 3,500 mails ({EVIL}).", action="Freeze it.")
    return UsageSummary(provider="local", generated_on=TODAY, windows=["7d", "30d", "90d"], median_sent_7d=21,
                        people=people, departments=departments, biggest=["bo@acme.com", "ann@acme.com"],
                        fastest_growing=["ann@acme.com"], counts={"high": 1, "medium": 0, "low": 0, "info": 0},
                        findings=[finding], unavailable={"last_sign_in": f"not planted {EVIL}"})


def test_names_are_escaped_and_nothing_is_loaded_from_anywhere() -> None:
    page = render_usage_html(summary())
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<svg onload" not in page and "&quot;&gt;&lt;svg onload=alert(1)&gt;&amp;amp;" in page
    assert "销售部" in page  # UTF-8 as is, declared in the page
    for remote in ("http:", "https:", "//cdn", "@import", "url("):
        assert remote not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count('<rect x="220"') == 4  # one bar per department in each of the two charts


# ----------------------------------------------------------------------------- a real browser


def chromium() -> str:
    """The OS package's browser. .ci/run installs it; a developer machine without it skips, loudly."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = ("CHROMIUM IS MISSING: the HTML usage report was NOT checked in a browser. Install the OS "
                   "package (apt-get install chromium), as .ci/run does.")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               # Nothing but the file: no update checks, sync or first-run pages reaching the network.
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
               # and should anything still try, no host name resolves: the test never reaches past loopback.
               "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    # The timeout only guards against a hung browser; nothing waits on it.
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HOME": str(tmp_path)})


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "usage.html"
    path.write_text(render_usage_html(summary()), encoding="utf-8")
    return path


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _share_of(image: Image.Image, box: tuple[int, int, int, int], colour: str) -> float:
    """How much of `box` is (nearly) `colour`: antialiased edges differ by a few levels."""
    want = _rgb(colour)
    region = image.crop(box).convert("RGB")
    total = region.width * region.height
    counted = region.getcolors(maxcolors=total) or []
    close = sum(n for n, p in counted if all(abs(a - b) <= 8 for a, b in zip(p, want, strict=True)))
    return close / total


def test_the_screenshot_shows_the_department_bars_in_their_colours(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "out.png"
    result = run_chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    assert shot.exists(), result.stderr
    image = Image.open(shot)
    assert image.size == (WIDTH, HEIGHT)
    colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)
    assert colours is not None and len(colours) > 50  # text, bars and lines, not a blank page
    # The storage chart is the first one, at the left; the sent chart beside it, to the right.
    left = (LABEL_WIDTH, 0, CHART_WIDTH + 24, HEIGHT // 3)
    right = (CHART_WIDTH + 24 + 32, 0, WIDTH, HEIGHT // 3)
    assert _share_of(image, left, STORAGE_COLOUR) > 0.01
    assert _share_of(image, left, SENT_COLOUR) == 0
    assert _share_of(image, right, SENT_COLOUR) > 0.01
    assert _share_of(image, right, STORAGE_COLOUR) == 0


def test_the_dom_chromium_builds_holds_the_charts_and_no_script(page: Path, tmp_path: Path) -> None:
    result = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = result.stdout
    assert "<svg" in dom, result.stderr
    assert dom.count('class="chart chart-storage"') == 1 and dom.count('class="chart chart-sent"') == 1
    assert dom.count('class="trend daily"') == 1 and dom.count('class="trend periods"') == 1
    assert dom.count('<g class="bar"') == 4
    assert "<script" not in dom  # the name is text in the page, not an element
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in dom
