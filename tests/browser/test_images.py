"""The image flows: upload with progress and refusals, approval, the grid and its
thumbnails, the image page, share links, and a plan change that changes the thumbnails."""

import re
import subprocess
import uuid
import urllib.error
import urllib.request

from conftest import BASE, PASSWORD, PHONE, Api, accessible, png, settled, sign_in


def test_upload_many_with_progress_and_each_refusal_explained(new_page, make_user, tmp_path):
    name = make_user("beta_player", prefix="up")
    files = []
    for i, (w, h) in enumerate([(640, 480), (300, 500), (800, 200)]):
        f = tmp_path / f"photo-{i}.png"
        f.write_bytes(png(w, h, (30 * i, 120, 200), noise=i == 0))  # photo-0: ~900 KB
        files.append(str(f))
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    big = tmp_path / "huge.png"
    big.write_bytes(png(16, 16) + b"\0" * (5 * 1024 * 1024 + 1))  # over the basic plan's 5 MiB
    broken = tmp_path / "broken.png"
    broken.write_bytes(png(64, 64)[:60])  # a PNG's start, cut off
    page = new_page()
    sign_in(page, name)
    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_role("heading", name="Upload").wait_for()
    settled(page)
    accessible(page, "upload")
    # A slow uplink (1 MB/s), so that the bars have somewhere to be on their way; each
    # value a bar shows is recorded.
    page.context.new_cdp_session(page).send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024},
    )
    page.evaluate(
        """() => { window.seen = {}; setInterval(() => document.querySelectorAll('progress').forEach(
            (p) => (window.seen[p.getAttribute('aria-label')] ??= new Set()).add(p.value)), 10); }"""
    )
    page.locator("input[type=file]").set_input_files(files + [str(text), str(big), str(broken)])
    items = page.get_by_role("list", name="Uploads").get_by_role("listitem")
    for i in range(3):
        items.nth(i).get_by_role("link", name="Uploaded, awaiting approval").wait_for()
        assert items.nth(i).locator("progress").evaluate("p => p.value") == 1
    assert items.nth(3).get_by_role("alert").inner_text() == "Refused: send a JPEG, PNG, GIF, WebP, HEIC or AVIF image"
    assert re.search(r"Refused: .*(too large|exceeds|limit)", items.nth(4).get_by_role("alert").inner_text())
    assert items.nth(5).get_by_role("alert").inner_text() == "Refused: the file does not decode as an image"
    seen = page.evaluate("Object.fromEntries(Object.entries(window.seen).map(([k, v]) => [k, [...v]]))")
    assert len([v for v in seen["Upload of photo-0.png"] if 0 < v < 1]) >= 2, seen


def test_moderation_by_keyboard_then_the_grid_shows_what_each_may_see(new_page, make_user, admin):
    owner = make_user("beta_player", prefix="own")
    mine = Api.login(owner)
    tag = uuid.uuid4().hex[:6]
    keep = mine.upload(png(400, 300, (200, 60, 60)), f"Keep me {tag}")
    drop = mine.upload(png(300, 400, (60, 200, 60)), f"Reject me {tag}")
    page = new_page()
    sign_in(page, "admin", __import__("conftest").ADMIN_PASSWORD)
    page.get_by_role("link", name="Moderation").click()
    settled(page)
    queue = page.get_by_role("list", name="Pending images")
    queue.get_by_role("button", name=re.compile(f"Keep me {tag}")).click()
    accessible(page, "moderation")
    page.locator("body").press("a")  # approve the selected one
    page.get_by_text(f"Keep me {tag} approved").wait_for()
    queue.get_by_role("button", name=re.compile(f"Reject me {tag}")).click()
    page.get_by_label("Reason (needed to reject)").fill("blurry")
    page.get_by_label("Reason (needed to reject)").press("Enter")
    page.get_by_text(f"Reject me {tag} rejected").wait_for()
    history = admin.call("GET", f"/images/{drop['id']}/approvals")
    assert [(d["decision"], d["reason"]) for d in history] == [("rejected", "blurry")]
    assert admin.call("GET", f"/images/{keep['id']}")["status"] == "approved"

    viewer = make_user("company_user", prefix="see")
    page = new_page()
    sign_in(page, viewer)
    grid = page.get_by_role("list", name="Images")
    grid.get_by_role("link", name=re.compile(f"Keep me {tag}")).wait_for()
    assert grid.get_by_role("link", name=re.compile(f"Reject me {tag}")).count() == 0
    page = new_page()
    sign_in(page, owner)
    page.get_by_role("list", name="Images").get_by_role("link", name=re.compile(f"Reject me {tag}")).wait_for()


def test_image_page_edit_download_and_a_share_link_opened_elsewhere(new_page, make_user, admin, browser):
    owner = make_user("beta_player", plan="enterprise", prefix="ent")
    title = f"Harbour {uuid.uuid4().hex[:6]}"
    image = Api.login(owner).upload(png(500, 400, (10, 10, 160)), title)
    admin.call("POST", f"/images/{image['id']}/approval", {"decision": "approved"})
    page = new_page()
    sign_in(page, owner)
    page.get_by_role("searchbox", name="Search").fill(title)
    page.get_by_role("searchbox", name="Search").press("Enter")
    page.get_by_text("1 image", exact=True).wait_for()
    assert f"q={title.replace(' ', '+')}" in page.url
    page.get_by_role("list", name="Images").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).wait_for()
    shown = page.locator("figure img")
    shown.evaluate("img => img.decode()")
    assert shown.evaluate("img => img.naturalWidth") > 0
    accessible(page, "image")

    page.get_by_label("Title").fill(f"{title} at dusk")
    page.get_by_label("Description").fill("Boats, low light.")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=f"{title} at dusk").wait_for()
    assert admin.call("GET", f"/images/{image['id']}")["description"] == "Boats, low light."

    with page.expect_download() as download:
        page.get_by_role("button", name="Download original").click()
    assert download.value.suggested_filename == f"{title} at dusk.png"
    assert open(download.value.path(), "rb").read()[:8] == b"\x89PNG\r\n\x1a\n"

    page.get_by_label("Expires after").select_option(label="1 hour")
    page.get_by_role("button", name="Create link").click()
    url = page.get_by_label("Share link", exact=True).input_value()
    assert url.startswith(BASE + "/l/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == url

    stranger = browser.new_context()  # no cookies, no token
    opened = stranger.new_page().goto(url)
    assert opened.status == 200 and opened.headers["content-type"] == "image/png"
    stranger.close()

    page.get_by_role("list").filter(has_text="until").get_by_role("button", name="Revoke").first.click()
    page.get_by_text("No live links.").wait_for()
    try:
        urllib.request.urlopen(url)
        raise AssertionError("a revoked link still works")
    except urllib.error.HTTPError as e:
        assert e.code == 410


def test_a_plan_change_changes_which_thumbnails_appear(new_page, make_user, admin):
    name = make_user("subscriber", prefix="plan")
    owner = Api.login(make_user("beta_player"))
    title = f"Plans differ {uuid.uuid4().hex[:6]}"
    image = owner.upload(png(900, 600, (90, 90, 90)), title)
    admin.call("POST", f"/images/{image['id']}/approval", {"decision": "approved"})
    page = new_page(viewport=PHONE, device_scale_factor=3)
    sign_in(page, name)
    tile = page.get_by_role("link", name=re.compile(title)).locator("img")
    assert re.findall(r"/thumbnails/(\d+)", tile.get_attribute("srcset")) == ["200"]
    page.goto("/account")
    settled(page)
    accessible(page, "account")
    page.get_by_role("button", name="Choose Growth").click()
    page.get_by_text("Subscription: growth, active").wait_for()
    page.get_by_role("link", name="Images").click()
    tile = page.get_by_role("link", name=re.compile(title)).locator("img")
    assert re.findall(r"/thumbnails/(\d+)", tile.get_attribute("srcset")) == ["200", "400"]
    # On a 3× phone screen the browser takes the larger one, through the worker's token.
    tile.evaluate("img => img.decode()")
    assert "/thumbnails/400" in tile.evaluate("img => img.currentSrc")


def test_upload_by_keyboard_alone(new_page, make_user, tmp_path):
    photo = tmp_path / "keyed.png"
    photo.write_bytes(png(320, 240, (120, 40, 160)))
    page = new_page()
    sign_in(page, make_user("beta_player"))
    # Playwright turns on file-chooser interception when the first listener is added; added
    # here, it is on before the key press (inside `expect_file_chooser` it could be late).
    page.on("filechooser", lambda _: None)
    page.goto("/upload")
    page.get_by_role("heading", name="Upload").wait_for()
    settled(page)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type === 'file'"):
            break
    # The focused picker shows where focus is (the drop zone's outline) and opens on Space.
    assert page.locator(".drop").evaluate("z => getComputedStyle(z).outlineStyle") == "solid"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(photo))
    page.get_by_role("link", name="Uploaded, awaiting approval").wait_for()


def test_a_403_after_a_role_change_is_shown_not_swallowed(new_page, make_user, admin):
    name = make_user("beta_player", prefix="demoted")
    image = Api.login(name).upload(png(300, 200), "Soon not mine to edit")
    page = new_page()
    sign_in(page, name)
    page.goto(f"/images/{image['id']}")
    settled(page)
    user = admin.call("GET", f"/users?q={name}")["items"][0]
    admin.call("PATCH", f"/users/{user['id']}", {"role": "company_user"})
    page.get_by_label("Title").fill("Changed anyway")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("alert").inner_text() == "Your role does not allow this"
    assert admin.call("GET", f"/images/{image['id']}")["title"] == "Soon not mine to edit"
    # The page learns the new role: uploading is no longer offered.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload", exact=True).wait_for(state="detached")


def test_account_email_password_and_cancelling_a_plan(new_page, make_user):
    name = make_user("subscriber", plan="growth", prefix="acct")
    page = new_page()
    sign_in(page, name)
    page.get_by_role("link", name=name).click()
    settled(page)
    page.get_by_role("textbox", name="Email").fill(f"{name}@example.com")
    page.get_by_role("button", name="Save email").click()
    page.get_by_text("Email saved").wait_for()
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password").fill("another-long-passphrase-9")
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("form", name="Password").get_by_role("alert").wait_for()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed").wait_for()
    page.get_by_text("Subscription: growth, active").wait_for()
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_text("Subscription: growth, canceled").wait_for()
    me = Api.login(name, "another-long-passphrase-9").call("GET", "/users/me")
    assert me["email"] == f"{name}@example.com"


def test_an_upload_past_the_storage_quota_is_refused_with_the_reason(new_page, make_user, admin, tmp_path):
    code = f"tiny{uuid.uuid4().hex[:6]}"
    admin.call("POST", "/plans", {"code": code, "name": "Tiny", "features": {"storage_quota_bytes": 1000}})
    name = make_user("beta_player", plan=code)
    photo = tmp_path / "noise.png"
    photo.write_bytes(png(40, 40, noise=True))  # about 5 KB
    page = new_page()
    sign_in(page, name)
    page.goto("/upload")
    page.locator("input[type=file]").set_input_files(str(photo))
    alert = page.get_by_role("list", name="Uploads").get_by_role("alert")
    assert alert.inner_text() == "Refused: your plan's storage quota is used up"


def test_a_phones_heic_is_offered_uploaded_and_shown_by_its_thumbnail(new_page, make_user, tmp_path):
    """A browser cannot show HEIC, but the gallery shows its thumbnails (JPEG), never the
    original, even to a plan that may download it."""
    source = tmp_path / "IMG_0001.png"
    source.write_bytes(png(400, 300, (200, 120, 40)))
    heic = tmp_path / "IMG_0001.HEIC"
    # libheif's encoder, as a phone's files are made (`make test` installs libheif-examples).
    subprocess.run(["heif-enc", "-q", "50", "-o", str(heic), str(source)], check=True, capture_output=True)
    page = new_page()
    sign_in(page, make_user("beta_player", plan="enterprise", prefix="phone"))
    page.goto("/upload")
    page.get_by_role("heading", name="Upload").wait_for()
    picker = page.locator("input[type=file]")
    for kind in ["image/heic", "image/avif"]:
        assert kind in picker.get_attribute("accept").split(",")
    page.get_by_text("JPEG, PNG, GIF, WebP, HEIC or AVIF.", exact=False).wait_for()
    picker.set_input_files(str(heic))
    page.get_by_role("link", name="Uploaded, awaiting approval").click()
    shown = page.locator("figure img")
    shown.evaluate("img => img.decode()")
    assert shown.evaluate("img => img.naturalWidth") > 0
    assert "/original" not in shown.evaluate("img => img.srcset + img.currentSrc")
