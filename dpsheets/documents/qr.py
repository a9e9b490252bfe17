"""一企一码: the QR payload of an enterprise (and of a post) and its PNG image.

With ``qr_base_url`` configured (and the archive's QR secret known) the payload is a URL of
the county's web service (``dpsheets serve``): ``/e/TOKEN`` opens the enterprise's public
page, ``/p/TOKEN`` a post's card and its five questions. The token is an HMAC of the credit
code (and workshop and post) under a secret kept in the archive: stable across submissions,
re-derivable by the service, and it neither reveals the credit code nor lets anyone list the
enterprises. Without a base URL or secret the payload is readable text (name, credit code,
county, post) that any phone scanner shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io

import segno

ENTERPRISE_CAPTION = "手机扫码查看本企业风险公告（一企一码）"
POST_CAPTION = "手机扫码：查看本岗位告知卡，回答五个应知应会问题并确认（岗前必答）"
TEXT_CAPTION = "扫码查看企业名称、统一社会信用代码、所属县区和岗位（一企一码）"


def token(secret: str, *parts: str) -> str:
    """16 lowercase base32 characters (80 bits) of HMAC-SHA256(secret, parts)."""
    mac = hmac.new(secret.encode("utf-8"), "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(mac[:10]).decode("ascii").lower()


def enterprise_token(secret: str, uscc: str) -> str:
    return token(secret, "e", uscc.strip().upper())


def post_token(secret: str, uscc: str, workshop: str, post: str) -> str:
    return token(secret, "p", uscc.strip().upper(), (workshop or "").strip(), (post or "").strip())


def _url(base_url: str, kind: str, tok: str) -> str:
    return f"{base_url.rstrip('/')}/{kind}/{tok}"


def enterprise_payload(name: str, uscc: str, county: str, base_url: str = "", secret: str = "") -> str:
    if base_url and secret:
        return _url(base_url, "e", enterprise_token(secret, uscc))
    return f"一企一码\n企业：{name}\n统一社会信用代码：{uscc}\n所属县区：{county}"


def post_payload(name: str, uscc: str, county: str, workshop: str, post: str, base_url: str = "",
                 secret: str = "") -> str:
    if base_url and secret:
        return _url(base_url, "p", post_token(secret, uscc, workshop, post))
    return f"{enterprise_payload(name, uscc, county)}\n岗位：{workshop} {post}"


def png(payload: str, scale: int = 6, border: int = 4) -> bytes:
    """The QR code of *payload* as PNG bytes (error correction M, quiet zone kept).

    The mask is fixed rather than searched: every mask pattern gives a valid, decodable code,
    and the search is 85 % of segno's pure-Python encoding time (a card run makes one code per post).
    The PNG is drawn by Pillow from the module matrix.
    """
    from PIL import Image

    code = segno.make(payload, error="m", micro=False, mask=MASK)
    matrix = code.matrix
    size = len(matrix)
    pixels = b"".join(bytes(line) for line in matrix).translate(_INK)  # module 1 → black (0), 0 → white
    modules = Image.frombytes("L", (size, size), pixels)
    image = Image.new("L", (size + 2 * border, size + 2 * border), 255)
    image.paste(modules, (border, border))
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).convert("1")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


MASK = 1
_INK = bytes([255, 0]) + bytes(254)
