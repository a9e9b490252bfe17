"""Where an enterprise is: the city (省辖市) from the division code inside its credit code.

The 18-character 统一社会信用代码 carries, in characters 3–8, the administrative division
code of the registering authority (GB 32100-2015); its first four digits name the city. The
roll-up levels (县 / 市 / 省) and ``--where 城市/县区`` use this, together with the county the
enterprise writes on its 企业信息 sheet.
"""

from __future__ import annotations

PROVINCE = "河南省"
PROVINCE_CODE = "41"
CITIES: dict[str, str] = {
    "4101": "郑州市", "4102": "开封市", "4103": "洛阳市", "4104": "平顶山市", "4105": "安阳市", "4106": "鹤壁市",
    "4107": "新乡市", "4108": "焦作市", "4109": "濮阳市", "4110": "许昌市", "4111": "漯河市", "4112": "三门峡市",
    "4113": "南阳市", "4114": "商丘市", "4115": "信阳市", "4116": "周口市", "4117": "驻马店市", "4190": "济源市",
}


def city_of(uscc: str | None) -> str | None:
    """The city of a credit code registered in Henan below province level; None otherwise."""
    if not uscc or len(uscc) < 6:
        return None
    return CITIES.get(uscc[2:6])


def parse_where(where: str | None) -> tuple[str | None, str | None]:
    """``漯河市/舞阳县`` → (city, county); ``漯河市`` → (city, None); ``舞阳县`` → (None, county)."""
    if not where:
        return None, None
    parts = [p.strip() for p in where.replace("／", "/").split("/") if p.strip()]
    if len(parts) >= 2:
        return parts[0], parts[1]
    if parts and parts[0] in CITIES.values():
        return parts[0], None
    return None, (parts[0] if parts else None)
