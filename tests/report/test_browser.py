"""The gallery and one run page of every experiment, opened in headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): no console errors, every image and video loaded, every local link
resolves, the runs table sorts and filters. A screenshot of each page is saved under the test's tmp folder.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from mlplab.experiments import EXPERIMENTS, execute
from mlplab.report.page.gallery import write_gallery

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason="no chromium + chromedriver here (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def tour(tmp_path_factory) -> Path:
    """Every registered experiment once, with its smoke settings, on the embedded data; then the gallery."""
    root = tmp_path_factory.mktemp("tour") / "runs"
    root.mkdir()
    write_gallery(root)
    for name in EXPERIMENTS.names():
        execute(name, list(EXPERIMENTS.get(name).smoke), root=str(root))
    write_gallery(root)
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        "--autoplay-policy=no-user-gesture-required",
    ):
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as exc:  # a browser that cannot start here is a reason to skip, not a product failure
        pytest.skip(f"headless chromium did not start: {str(exc).splitlines()[0]}")
    yield driver
    driver.quit()


def open_page(driver, page: Path, shots: Path) -> None:
    """Load a page, bring every image into view, wait for media, save a full-height screenshot."""
    driver.get(page.as_uri())
    driver.execute_script("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; });")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not driver.execute_script(
        "return Array.from(document.images).every(function (i) { return i.complete; }) && "
        "Array.from(document.querySelectorAll('video')).every(function (v) { return v.readyState >= 2 || v.error; });"
    ):
        time.sleep(0.2)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(height + 120, 900), 8000))
    shots.mkdir(parents=True, exist_ok=True)
    name = "gallery" if page.name == "index.html" else page.parent.parent.name
    driver.save_screenshot(str(shots / f"{name}.png"))


def check_page(driver, page: Path) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"{page}: console errors {errors}"
    broken = driver.execute_script(
        "return Array.from(document.images).filter(function (i) { return !(i.complete && i.naturalWidth > 0); })"
        ".map(function (i) { return i.getAttribute('src'); });"
    )
    assert broken == [], f"{page}: images that did not load: {broken}"
    videos = driver.execute_script(
        "return Array.from(document.querySelectorAll('video')).map(function (v) {"
        " return [v.getAttribute('src'), v.readyState, v.error ? v.error.code : 0]; });"
    )
    assert all(state >= 2 for _, state, _ in videos), f"{page}: videos not playable: {videos}"
    refs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href], img[src], video[src], source[src]'))"
        ".map(function (e) { return e.href || e.src; });"
    )
    for ref in refs:
        url = urlparse(ref)
        assert url.scheme in ("file", "data"), f"{page}: a link leaves the folder: {ref}"
        if url.scheme == "file":
            assert Path(unquote(url.path)).exists(), f"{page}: broken link {ref}"


@pytest.mark.slow
def test_gallery_and_every_run_page_in_a_real_browser(tour, browser, tmp_path):
    shots = tmp_path / "screenshots"
    gallery = tour / "index.html"
    open_page(browser, gallery, shots)
    check_page(browser, gallery)
    cards = browser.execute_script("return document.querySelectorAll('.card').length")
    assert cards == len(EXPERIMENTS.names())

    # the table sorts by a clicked column, both ways, and filters as one types
    from selenium.webdriver.common.by import By

    def column(i: int) -> list[str]:
        return browser.execute_script(
            f"return Array.from(document.querySelectorAll('#runs tbody tr')).map(function (r) "
            f"{{ return r.cells[{i}].dataset.sort; }});"
        )

    header = browser.find_elements(By.CSS_SELECTOR, "#runs th")[0]
    header.click()
    assert column(0) == sorted(column(0)) and len(set(column(0))) > 1
    header.click()
    assert column(0) == sorted(column(0), reverse=True)
    times = browser.find_elements(By.CSS_SELECTOR, "#runs th")[4]
    times.click()
    assert [float(x) for x in column(4)] == sorted(float(x) for x in column(4))
    first = column(0)[0]
    browser.find_element(By.ID, "filter").send_keys(first)
    visible = browser.execute_script(
        "return Array.from(document.querySelectorAll('#runs tbody tr')).filter(function (r) { return !r.hidden; })"
        ".map(function (r) { return r.cells[0].dataset.sort; });"
    )
    assert first in visible and len(visible) < cards

    gifs = sorted(tour.glob("*/*/animations/*.gif"))
    assert all(g.with_suffix(".mp4").is_file() for g in gifs), "every animation is written as GIF and MP4"
    pages = sorted(tour.glob("*/*/report.html"))
    assert sorted(p.parent.parent.name for p in pages) == EXPERIMENTS.names()
    for page in pages:
        open_page(browser, page, shots)
        check_page(browser, page)
        assert browser.execute_script("return document.querySelectorAll('.tile').length") >= 1, page
        assert browser.find_element(By.ID, "command").text.startswith("mlplab run ")
    print(f"screenshots: {shots}")
