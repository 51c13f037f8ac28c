"""Galleries, administration, keyboard use, and a tour of every page at both sizes (axe-core
and screenshots)."""

import re
import uuid

from conftest import ADMIN, ADMIN_PASSWORD, DESKTOP, PHONE, Api, accessible, keyboard_reachable, png, settled, shoot, sign_in


# Waits for the images on screen to be loaded and decoded. A function evaluated through the
# DevTools protocol: `wait_for_function` with an expression would `eval` inside the page,
# which the page's CSP (rightly) refuses.
IMAGES_IN_VIEW = """async () => {
    const shown = [...document.images].filter((i) => i.getBoundingClientRect().top < innerHeight);
    await Promise.all(shown.map((i) => i.decode().catch(() => null)));
}"""


def test_galleries_are_made_renamed_and_browsed(new_page, make_user):
    name = make_user("beta_player", prefix="gal")
    page = new_page()
    sign_in(page, name)
    page.get_by_role("link", name="Galleries").click()
    settled(page)
    gallery = f"Trips {uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="New gallery")
    form.get_by_label("Name").fill(gallery)
    form.get_by_label("Description").fill("Holidays")
    form.get_by_role("button", name="Create gallery").click()
    page.get_by_role("link", name=gallery).wait_for()
    accessible(page, "galleries")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=gallery))
    card.get_by_text("Edit").click()
    card.get_by_role("textbox", name="Name", exact=True).fill(f"{gallery} 2026")
    card.get_by_role("button", name="Save").click()
    page.get_by_role("link", name=f"{gallery} 2026").click()
    page.get_by_role("heading", name=f"{gallery} 2026").wait_for()
    page.get_by_text("No images match.").wait_for()

    viewer = make_user("company_user")
    page = new_page()
    sign_in(page, viewer)
    page.get_by_role("link", name="Galleries").click()
    page.get_by_role("link", name=f"{gallery} 2026").wait_for()
    assert page.get_by_role("form", name="New gallery").count() == 0, "view only: nothing to manage offered"


def test_admin_changes_a_users_role_activity_and_plan(new_page, make_user, admin):
    name = make_user("subscriber", prefix="adm")
    page = new_page()
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("heading", name="Admin: Users").wait_for()
    settled(page)
    page.get_by_role("searchbox", name="Find").fill(name)
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("row", name=re.compile(name)).wait_for()
    page.get_by_label(f"Role of {name}").select_option("beta_player")
    page.get_by_text(f"{name} saved").wait_for()
    page.get_by_label(f"Plan of {name}").select_option("growth")
    page.get_by_text(f"{name} saved").wait_for()
    page.get_by_label(f"{name} is active").uncheck()
    page.get_by_text(f"{name} saved").wait_for()
    accessible(page, "admin users")
    user = admin.call("GET", f"/users?q={name}")["items"][0]
    assert (user["role"], user["plan"], user["is_active"]) == ("beta_player", "growth", False)


def test_admin_edits_role_permissions_and_plan_features(new_page, admin):
    page = new_page()
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    page.goto("/admin/roles")
    settled(page)
    role = f"editor_{uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="New role")
    form.get_by_label("Name").fill(role)
    form.get_by_role("button", name="Create role").click()
    card = page.get_by_role("form", name=role)
    card.get_by_role("checkbox", name=re.compile("^images:update")).check()
    card.get_by_role("button", name="Save role").click()
    page.get_by_text("Role saved").wait_for()
    accessible(page, "admin roles")
    saved = next(r for r in admin.call("GET", "/roles") if r["name"] == role)
    assert sorted(saved["permissions"]) == ["images:read", "images:update"]
    # Built-in roles are shown, not offered for change.
    assert page.get_by_role("form", name=re.compile("^admin")).get_by_role("checkbox").first.is_disabled()

    page.goto("/admin/plans")
    settled(page)
    code = f"pro{uuid.uuid4().hex[:6]}"
    form = page.get_by_role("form", name="New plan")
    form.get_by_label("Code").fill(code)
    form.get_by_label("Name").fill("Pro")
    form.get_by_role("button", name="Create plan").click()
    card = page.get_by_role("form", name=re.compile(f"Pro {code}"))
    card.get_by_label("Thumbnail heights (px, comma-separated)").fill("150, 300, 600")
    card.get_by_label("Share links").check()
    card.get_by_role("button", name="Save plan").click()
    page.get_by_text("Pro saved").wait_for()
    accessible(page, "admin plans")
    plan = next(p for p in admin.call("GET", "/plans") if p["code"] == code)
    assert plan["features"]["thumbnail_heights"] == [150, 300, 600] and plan["features"]["expiring_links"]
    # A refused change shows the server's reason.
    card.get_by_label("Thumbnail heights (px, comma-separated)").fill("5")
    card.get_by_role("button", name="Save plan").click()
    assert "thumbnail_heights" in card.get_by_role("alert").inner_text()


def test_the_grid_works_by_keyboard_alone(new_page, make_user, admin):
    owner = Api.login(make_user("beta_player"))
    title = f"Keyed {uuid.uuid4().hex[:6]}"
    image = owner.upload(png(300, 200), title)
    admin.call("POST", f"/images/{image['id']}/approval", {"decision": "approved"})
    page = new_page()
    sign_in(page, make_user("company_user"))
    page.get_by_role("searchbox", name="Search").focus()
    page.keyboard.type(title)
    page.keyboard.press("Enter")
    page.get_by_text("1 image", exact=True).wait_for()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('tile')"):
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=title).wait_for()


def test_every_page_at_desktop_and_phone_size(new_page, make_user, admin, tmp_path):
    """axe-core on every page, and the README's screenshots."""
    owner = Api.login(make_user("beta_player"))
    ids = []
    for i, (w, h, rgb) in enumerate([(600, 400, (52, 101, 164)), (400, 600, (196, 160, 0)), (640, 360, (78, 154, 6)),
                                     (500, 500, (204, 0, 0)), (720, 400, (117, 80, 123)), (480, 640, (193, 125, 17))]):
        ids.append(owner.upload(png(w, h, rgb), f"Sample {i + 1}")["id"])
    for image_id in ids[:4]:
        admin.call("POST", f"/images/{image_id}/approval", {"decision": "approved"})
    pages = [("/", "grid", "Images"), ("/galleries", "galleries", "Galleries"), (f"/images/{ids[0]}", "image", "Sample 1"),
             ("/upload", "upload", "Upload"), ("/moderation", "moderation", "Moderation"),
             ("/account", "account", "Account"), ("/admin/users", "admin-users", "Admin: Users"),
             ("/admin/roles", "admin-roles", "Admin: Roles"), ("/admin/plans", "admin-plans", "Admin: Plans")]
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport=viewport)
        sign_in(page, ADMIN, ADMIN_PASSWORD)
        for path, name, heading in pages:
            page.goto(path)
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            page.wait_for_load_state("networkidle")
            if name == "upload":  # shown at work: one file taken, one refused with the reason
                good, bad = tmp_path / "harbour.png", tmp_path / "notes.png"
                good.write_bytes(png(480, 320, (30, 110, 170)))
                bad.write_text("not an image")
                page.locator("input[type=file]").set_input_files([str(good), str(bad)])
                uploads = page.get_by_role("list", name="Uploads")
                uploads.get_by_role("alert").wait_for()
                uploads.get_by_role("link", name=re.compile("^Uploaded")).wait_for()
            page.evaluate(IMAGES_IN_VIEW)
            accessible(page, f"{name} at {viewport['width']}px")
            shoot(page, name)
            if viewport is DESKTOP:
                keyboard_reachable(page, name)
