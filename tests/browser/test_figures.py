"""Figures for docs/benchmarks.md, measured in the browser (reported, not asserted beyond
the byte budget): JavaScript and CSS bytes on first load, and the time until a screen of
100 thumbnails is painted."""

import uuid

from conftest import Api, png, record, sign_in

TALL = {"width": 1280, "height": 4000}  # a screen that holds 100 tiles of 200 × 200
PAINTED = """async () => {
    const shown = () => [...document.querySelectorAll('.grid img')].filter((i) => i.complete && i.naturalWidth > 0);
    while (shown().length < 100) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now();
}"""


def code_bytes(page):
    """Bytes of JavaScript and CSS the page loaded: decoded, and as sent (gzip)."""
    return page.evaluate(
        """() => performance.getEntriesByType('resource').filter((e) => /\\.(js|css)$/.test(new URL(e.name).pathname))
            .reduce((t, e) => ({decoded: t.decoded + e.decodedBodySize, sent: t.sent + e.encodedBodySize,
                                files: t.files + 1}), {decoded: 0, sent: 0, files: 0})"""
    )


def test_first_load_bytes_and_time_to_100_thumbnails(new_page, make_user, admin):
    page = new_page()
    page.goto("/login")
    page.get_by_role("heading", name="Sign in").wait_for()
    sign_in_bytes = code_bytes(page)
    record("sign_in_page_js_css", sign_in_bytes)
    assert sign_in_bytes["decoded"] < 100_000, sign_in_bytes

    owner = Api.login(make_user("beta_player"))
    tag = uuid.uuid4().hex[:6]
    for i in range(110):
        image = owner.upload(png(200, 200, ((i * 37) % 200, (i * 91) % 200, (i * 53) % 200)), f"Figure {tag} {i}")
        admin.call("POST", f"/images/{image['id']}/approval", {"decision": "approved"})
    viewer = make_user("company_user")

    timings = {}
    page = new_page(viewport=TALL)
    sign_in(page, viewer)
    for case in ("cold thumbnails", "hot thumbnails, browser cache warm"):
        page.reload()
        timings[case] = round(page.evaluate(PAINTED))
        if case == "cold thumbnails":
            grid_bytes = code_bytes(page)
    page = new_page(viewport=TALL)
    sign_in(page, viewer)
    page.reload()
    timings["hot thumbnails, empty browser cache"] = round(page.evaluate(PAINTED))
    record("grid_page_js_css", grid_bytes)
    record("ms_until_100_thumbnails_painted", timings)
    assert grid_bytes["decoded"] < 100_000, grid_bytes
