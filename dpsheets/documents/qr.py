"""一企一码: the QR payload of an enterprise (and of a post) and its PNG image.

With ``qr_base_url`` configured the payload is a URL under it; otherwise readable text
(name, credit code, county, post) that any phone scanner shows.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import segno


def enterprise_payload(name: str, uscc: str, county: str, base_url: str = "") -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/{quote(uscc)}"
    return f"一企一码\n企业：{name}\n统一社会信用代码：{uscc}\n所属县区：{county}"


def post_payload(name: str, uscc: str, county: str, workshop: str, post: str, base_url: str = "") -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/{quote(uscc)}/post/{quote(workshop)}/{quote(post)}"
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
    pixels = bytes(0 if bit else 255 for line in matrix for bit in line)
    modules = Image.frombytes("L", (size, size), pixels)
    image = Image.new("L", (size + 2 * border, size + 2 * border), 255)
    image.paste(modules, (border, border))
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).convert("1")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


MASK = 1
