"""The demo district, 杭州市西湖区, and the departments that hold its data."""

from __future__ import annotations

from dataclasses import dataclass

from govlink.standards.credit_code import make_credit_code

DISTRICT_CODE = "330106"
DISTRICT_NAME = "西湖区"
CITY_NAME = "杭州市"
PROVINCE_NAME = "浙江省"


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    """A department of the district government; ``parent_code`` is None only for the root."""

    code: str
    name: str
    uscc: str
    parent_code: str | None


def _organ(code: str, name: str, body8: str, parent_code: str | None) -> DepartmentSpec:
    # Government organs register with the 机构编制 authority (1) as type 1 (机关).
    return DepartmentSpec(code, name, make_credit_code("1", "1", DISTRICT_CODE, body8), parent_code)


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _organ("ZFB", "杭州市西湖区人民政府办公室", "00250001", None),
    _organ("SJJ", "杭州市西湖区数据资源管理局", "MB1A0002", "ZFB"),
    _organ("GA", "杭州市公安局西湖区分局", "00250003", "ZFB"),
    _organ("GA-BS", "杭州市公安局西湖区分局北山派出所", "00250031", "GA"),
    _organ("GA-WX", "杭州市公安局西湖区分局文新派出所", "00250032", "GA"),
    _organ("RS", "杭州市西湖区人力资源和社会保障局", "00250004", "ZFB"),
    _organ("MZ", "杭州市西湖区民政局", "00250005", "ZFB"),
    _organ("WJ", "杭州市西湖区卫生健康局", "00250006", "ZFB"),
    _organ("JY", "杭州市西湖区教育局", "00250007", "ZFB"),
    _organ("SC", "杭州市西湖区市场监督管理局", "00250008", "ZFB"),
    _organ("SW", "国家税务总局杭州市西湖区税务局", "00250009", "ZFB"),
    _organ("HB", "杭州市生态环境局西湖分局", "00250010", "ZFB"),
)

_BY_CODE = {d.code: d for d in DEPARTMENTS}


def department(code: str) -> DepartmentSpec:
    """The department with this code; raises KeyError naming the known codes otherwise."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"no department {code!r}; known: {', '.join(_BY_CODE)}") from None
