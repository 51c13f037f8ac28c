"""Day one for a client of ours: a Python client generated from our spec by
openapi-python-client (package `gallery_client`, no hand edits) talks to a live server.
`python3 client_scenario.py BASE_URL ADMIN PASSWORD` with the package on PYTHONPATH."""

import io
import struct
import sys
import zlib

from gallery_client import AuthenticatedClient, Client
from gallery_client.api.auth import get_me, login, register
from gallery_client.api.images import decide_image, get_image_thumbnail, list_images, upload_image
from gallery_client.api.links import create_link, open_link
from gallery_client.api.subscriptions import assign_subscription
from gallery_client.models import DecisionBody, LinkBody, LoginBody, RegisterBody, SubscribeBody, UploadForm
from gallery_client.types import File


def png(width, height):
    """A small opaque PNG, made without any imaging library."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x % 256, y % 256, 90)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def expect(response, status, what):
    if response.status_code != status:
        sys.exit(f"{what}: expected {status}, got {response.status_code}: {response.content[:300]!r}")
    print(f"ok  {what} -> {status}")
    return response.parsed


def main(base, admin_name, admin_password):
    anonymous = Client(base_url=base)
    password = "client-check-password"
    user = expect(register.sync_detailed(client=anonymous, body=RegisterBody(
        username="client_check", password=password, password_confirm=password, role="beta_player")), 201, "register")
    tokens = expect(login.sync_detailed(client=anonymous, body=LoginBody(username="client_check", password=password)),
                    200, "login")
    me = AuthenticatedClient(base_url=base, token=tokens.access_token)
    assert expect(get_me.sync_detailed(client=me), 200, "users/me").username == "client_check"

    admin_tokens = expect(login.sync_detailed(client=anonymous, body=LoginBody(username=admin_name, password=admin_password)),
                          200, "admin login")
    admin = AuthenticatedClient(base_url=base, token=admin_tokens.access_token)
    expect(assign_subscription.sync_detailed(user.id, client=admin, body=SubscribeBody(plan="enterprise")), 200,
           "admin puts the user on enterprise (thumbnails, links)")

    form = UploadForm(file=File(payload=io.BytesIO(png(640, 480)), file_name="day-one.png", mime_type="image/png"),
                      title="Day one")
    image = expect(upload_image.sync_detailed(client=me, body=form), 201, "upload")
    page = expect(list_images.sync_detailed(client=me), 200, "list")
    assert any(item.id == image.id for item in page.items), "the upload is listed for its owner"

    thumb = get_image_thumbnail.sync_detailed(image.id, 200, client=me)
    expect(thumb, 200, "thumbnail 200 px")
    assert thumb.content[:2] == b"\xff\xd8", "an opaque image's thumbnail is a JPEG"

    # Only approved images are shared.
    expect(decide_image.sync_detailed(image.id, client=admin, body=DecisionBody(decision="approved")), 200,
           "admin approves the upload")
    link = expect(create_link.sync_detailed(image.id, client=me, body=LinkBody(expires_in=600)), 201, "create a link")
    token = link.url.rsplit("/", 1)[-1]
    shared = open_link.sync_detailed(token, client=anonymous)
    expect(shared, 200, "open the link without a token")
    assert shared.content[:8] == b"\x89PNG\r\n\x1a\n", "the link serves the original PNG"
    print("client-check: the generated client works end to end")


if __name__ == "__main__":
    main(*sys.argv[1:4])
