"""A real browser for the tests: Debian's Chromium driven by Debian's chromedriver (selenium),
with axe-core (pinned in package-lock.json, installed by `make` into node_modules/).

Nothing here downloads anything: the driver and browser paths are given, so Selenium
Manager is never asked for a build of its own (SE_OFFLINE as well), and Chromium runs
with its background networking, component updates and sync off (on a closed network
its connection attempts fail, and a test must not depend on them anyway).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--force-color-profile=srgb",
         "--window-size=1280,900"]


def missing() -> list[str]:
    """What `make` should have installed but is not there."""
    return [str(p) for p in (CHROMIUM, CHROMEDRIVER, AXE) if not p.is_file()]


def start(profile_dir: Path):
    """One headless Chromium with a fresh profile."""
    os.environ["SE_OFFLINE"] = "true"   # Selenium Manager: never fetch a driver or a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)
    return driver


def axe_violations(driver) -> list[dict]:
    """Run axe-core on the open page; its violations (id, impact, help, targets)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));"
        % json.dumps(AXE_TAGS))
    data = json.loads(result)
    if isinstance(data, dict):
        raise RuntimeError(f"axe-core failed: {data['error']}")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]]} for v in data]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'][:5])}"
                     + (f" and {len(v['targets']) - 5} more" if len(v["targets"]) > 5 else "")
                     for v in violations)


def screenshot(driver, width: int, path: Path) -> Path:
    """The whole page at `width` CSS pixels, as a PNG."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
    height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": min(int(height), 16000), "deviceScaleFactor": 1,
                            "mobile": width < 600})
    path.write_bytes(driver.get_screenshot_as_png())
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def fresh_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix="policyprint-chromium-"))
