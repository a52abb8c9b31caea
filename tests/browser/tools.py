"""Browser-test tools: headless Chromium from Debian, axe-core and the Nu HTML Checker from the npm registry.

`make test` and `.ci/run` install the npm tools into tests/browser/node_modules (package-lock.json pins them).
Outside CI a missing tool skips the tests that need it; in CI it fails them.
"""

import json
import shutil
import subprocess
from pathlib import Path

from tests.support.stack import ROOT

CHROMIUM = Path("/usr/bin/chromium")
NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
AXE_SCRIPT = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

# Without the networking flags Chromium tries to reach Google's services, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_WIDTH, DESKTOP_WIDTH = 360, 1280
VIEWPORTS = {PHONE_WIDTH: {"width": 360, "height": 780}, DESKTOP_WIDTH: {"width": 1280, "height": 900}}
# WCAG 2.2 AA and everything below it, as axe-core tags them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; returns the violations, each with the offending elements.

    The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
    govern: the policy under test stays exactly as the site sends it.
    """
    page.evaluate(AXE_SCRIPT.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in result["violations"]
    ]


def html_errors(documents: dict[str, str], workdir: Path) -> dict[str, list[str]]:
    """Validate HTML documents with the Nu HTML Checker in one run; returns {name: [error, ...]} for failures."""
    files = {}
    for index, (name, html) in enumerate(documents.items()):
        path = workdir / f"page-{index}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    result = subprocess.run(
        [
            shutil.which("java") or "java",
            "-jar",
            str(VNU_JAR),
            "--format",
            "json",
            "--errors-only",
            "--stdout",
            *(str(workdir / file_name) for file_name in files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):  # 1 means "errors found"; anything else is the checker failing
        raise RuntimeError(f"the HTML checker failed: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    errors: dict[str, list[str]] = {}
    for message in report["messages"]:
        url = message.get("url", "?")
        name = files.get(url.rsplit("/", 1)[-1], url)
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']}")
    return errors


def screenshot(page, name: str, width: int) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
