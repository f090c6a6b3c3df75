"""The study page opened in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium), as the
run pages are: no console errors, every figure loaded, every local link resolves, the tables are there."""

from __future__ import annotations

import shutil
import time
from urllib.parse import unquote, urlparse

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None or DRIVER is None, reason="no chromium + chromedriver here")
def test_the_study_page_in_a_real_browser(study_dir, tmp_path):
    from pathlib import Path

    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as exc:  # a browser that cannot start here is a reason to skip, not a product failure
        pytest.skip(f"headless chromium did not start: {str(exc).splitlines()[0]}")
    try:
        page = study_dir / "study.html"
        driver.get(page.as_uri())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not driver.execute_script(
            "return Array.from(document.images).every(function (i) { return i.complete; })"
        ):
            time.sleep(0.2)
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        images = driver.execute_script(
            "return Array.from(document.images).map(function (i) { return [i.getAttribute('src'), i.naturalWidth]; })"
        )
        assert len(images) == 4 and all(width > 0 for _, width in images), images
        refs = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href], img[src]')).map(function (e) "
            "{ return e.href || e.src; });"
        )
        for ref in refs:
            url = urlparse(ref)
            assert url.scheme == "file" and Path(unquote(url.path)).exists(), ref
        rows = driver.execute_script("return document.querySelectorAll('#trials tr').length")
        assert rows == 1 + 7
        assert driver.find_element("id", "verdict").text.startswith("Verdict:")
        driver.save_screenshot(str(tmp_path / "study.png"))
    finally:
        driver.quit()
