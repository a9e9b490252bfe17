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


def png(payload: str, scale: int = 6) -> bytes:
    """The QR code of *payload* as PNG bytes (error correction M, quiet zone kept)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
