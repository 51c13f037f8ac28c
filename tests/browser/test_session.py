"""Sign-up, sign-in, and a session that survives a reload without the page ever holding
the refresh token."""

import uuid

from conftest import PASSWORD, PHONE, accessible, shoot, sign_in


def test_sign_up_then_a_reload_keeps_the_user_signed_in(new_page):
    page = new_page()
    page.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.url.endswith("/login?next=%2F")
    accessible(page, "sign in")
    shoot(page, "sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_role("heading", name="Create an account").wait_for()
    name = f"new{uuid.uuid4().hex[:8]}"
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    accessible(page, "sign up")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Images").wait_for()

    cookies = {c["name"]: c for c in page.context.cookies()}
    refresh = cookies["gallery_refresh"]
    assert refresh["httpOnly"] and refresh["sameSite"] == "Strict" and refresh["path"] == "/api/v1/auth"
    assert "gallery_refresh" not in page.evaluate("document.cookie")
    assert refresh["value"] not in page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")

    page.reload()
    page.get_by_role("link", name=name).wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert "gallery_refresh" not in {c["name"] for c in page.context.cookies()}


def test_a_wrong_password_is_shown_with_the_servers_words(new_page, make_user):
    name = make_user("company_user")
    page = new_page(viewport=PHONE)
    page.goto("/login")
    shoot(page, "sign-in")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password"
    sign_in(page, name)
    # View only: no upload, moderation or admin offered.
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Upload").count() == 0
    assert nav.get_by_role("link", name="Admin").count() == 0


def test_sign_in_works_by_keyboard_alone(new_page, make_user):
    name = make_user("subscriber")
    page = new_page()
    page.goto("/login")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the brand and the header's links, to the form
    focused = page.evaluate("document.activeElement.name || document.activeElement.textContent")
    while focused != "username":
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.name || document.activeElement.textContent")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Images").wait_for()
