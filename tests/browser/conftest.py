"""Fixtures for the browser tests: a real server (started by scripts/browser-test.sh), an
API client for setting things up, Debian's chromium driven by Playwright, and the checks
every page must pass (axe-core, no CSP violation, no uncaught error)."""

import json
import os
import struct
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

BASE = os.environ["GALLERY_URL"]
ADMIN = os.environ.get("GALLERY_ADMIN", "admin")
ADMIN_PASSWORD = os.environ["GALLERY_ADMIN_PASSWORD"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(os.environ["AXE_JS"]).read_text()
SHOTS = Path(os.environ.get("SCREENSHOTS", "target/browser/screenshots"))
FIGURES = Path(os.environ.get("FIGURES", "target/browser/figures.json"))
PASSWORD = "violet-harbor-lamp-72"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Api:
    """The public API over HTTP, for arranging what a test needs."""

    def __init__(self, token=None):
        self.token = token

    def call(self, method, path, body=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(BASE + "/api/v1" + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", content_type)
        if self.token:
            req.add_header("authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req) as res:
                text = res.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read().decode()}") from None

    @staticmethod
    def login(username, password=PASSWORD):
        tokens = Api().call("POST", "/auth/login", {"username": username, "password": password})
        return Api(tokens["access_token"])

    def upload(self, png, title, gallery_id=None):
        boundary = uuid.uuid4().hex
        parts = [("title", title.encode())] + ([("gallery_id", gallery_id.encode())] if gallery_id else [])
        body = b""
        for name, value in parts:
            body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\n'.encode()
        body += b"Content-Type: image/png\r\n\r\n" + png + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", "/images", raw=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture(scope="session")
def admin():
    return Api.login(ADMIN, ADMIN_PASSWORD)


@pytest.fixture
def make_user(admin):
    """Creates a user with `role` (and `plan`), returning its name."""

    def make(role, plan=None, prefix="u"):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        user = admin.call("POST", "/users", {"username": name, "password": PASSWORD, "role": role})
        if plan:
            admin.call("PUT", f"/users/{user['id']}/subscription", {"plan": plan})
        return name

    return make


def png(width, height, rgb=(40, 90, 200), noise=False):
    """A PNG, made without any imaging library: `rgb` fading to a lighter shade across and
    down (or noise, which does not compress)."""

    def row(y):
        if noise:
            return os.urandom(3 * width)
        return b"".join(
            bytes(min(255, c + (255 - c) * (x + y) // (2 * (width + height))) for c in rgb) for x in range(width)
        )

    raw = b"".join(b"\x00" + row(y) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


class Watched:
    """A page whose CSP violations and uncaught errors fail the test."""

    def __init__(self, page: Page):
        self.page = page
        self.problems = []
        page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    setattr(item, "rep_" + outcome.get_result().when, outcome.get_result())


@pytest.fixture
def new_page(browser, request):
    """Opens a page in a fresh context (its own cookies): `new_page(viewport=PHONE)`. A
    failed test leaves each page's screenshot and HTML in target/browser/failures."""
    opened = []

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, base_url=BASE, **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened.append(Watched(page))
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        out = Path("target/browser/failures")
        out.mkdir(parents=True, exist_ok=True)
        for i, w in enumerate(opened):
            w.page.screenshot(path=str(out / f"{request.node.name}-{i}.png"))
            (out / f"{request.node.name}-{i}.html").write_text(w.page.content())
    problems = [p for w in opened for p in w.problems]
    for w in opened:
        w.page.context.close()
    assert not problems, problems


def sign_in(page: Page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    settled(page)


def settled(page: Page):
    """Waits until the page shown has loaded what it shows (`main` is no longer busy)."""
    page.locator("main:not([aria-busy])").wait_for()


def accessible(page: Page, name):
    """axe-core on the page as it is now: no serious or critical violation. Evaluated
    through the DevTools protocol, which the page's CSP does not govern (as it should not)."""
    page.evaluate(AXE)
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
    .filter((e) => !e.matches(':disabled') && e.checkVisibility({visibilityProperty: true}) && !e.closest('details:not([open]) > :not(summary)'))"""

FOCUSED = """() => {
    const e = document.activeElement;
    const ring = (el) => el && getComputedStyle(el).outlineStyle !== 'none' && parseFloat(getComputedStyle(el).outlineWidth) >= 2;
    return {id: e === document.body ? null : (e.dataset.seen ??= String(Math.random())), ring: ring(e) || ring(e.closest('.drop'))};
}"""


def keyboard_reachable(page: Page, name):
    """Tab, from the top of the page, reaches every control on it, each showing where focus
    is (a focus ring of 2 px or more, its own or its drop zone's)."""
    controls = page.evaluate(f"() => ({CONTROLS})().length")
    page.evaluate(f"() => ({CONTROLS})()[0].focus()")
    seen, unringed = set(), []
    for step in range(controls + 5):
        if step:
            page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["id"] is None or focused["id"] in seen:
            break
        seen.add(focused["id"])
        if not focused["ring"]:
            unringed.append(page.evaluate("document.activeElement.outerHTML.slice(0, 120)"))
    assert len(seen) >= controls, f"{name}: Tab reached {len(seen)} of {controls} controls"
    assert not unringed, f"{name}: focus not shown on {unringed}"


def shoot(page: Page, name):
    """A screenshot for the README (docs/screenshots when SCREENSHOTS points there)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    kind = "phone" if size["width"] < 600 else "desktop"
    page.screenshot(path=str(SHOTS / f"{name}-{kind}.png"))


def record(name, value):
    """Adds a figure to FIGURES (a JSON object), for docs/benchmarks.md."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[name] = value
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
