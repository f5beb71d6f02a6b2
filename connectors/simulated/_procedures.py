"""The catalogue the dvc simulator draws from: agencies and administrative procedures (TTHC).

Names are those of real procedures of the national procedure database (Cơ sở dữ liệu quốc gia
về thủ tục hành chính); codes follow its `1.00xxxx` / `2.00xxxx` pattern but are illustrative,
and so are the levels, fees, processing times and popularity below (they are plausible for a
province, not official). Commune procedures are offered by every commune People's Committee
(`UBND-<commune code>`); department procedures by one department (`SO-…`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ioc.events import ServiceLevel

__all__ = ["COMMUNE", "DEPARTMENTS", "PROCEDURES", "Procedure"]

COMMUNE: Final = "UBND"
"""Agency of procedures that every commune People's Committee handles."""

DEPARTMENTS: Final[dict[str, str]] = {
    "SO-TP": "Sở Tư pháp",
    "SO-TC": "Sở Tài chính",
    "SO-NNMT": "Sở Nông nghiệp và Môi trường",
    "SO-XD": "Sở Xây dựng",
    "SO-YT": "Sở Y tế",
    "SO-GDDT": "Sở Giáo dục và Đào tạo",
    "SO-NV": "Sở Nội vụ",
}
"""Department codes and their Vietnamese names, as organised since 1 March 2025.

Nghị định 45/2025/NĐ-CP (28/02/2025, in force 01/03/2025) merged the provinces' departments:
Sở Kế hoạch và Đầu tư into Sở Tài chính (business registration, investment), Sở Giao thông
vận tải into Sở Xây dựng (driving licences, transport permits), Sở Tài nguyên và Môi trường
with Sở Nông nghiệp và Phát triển nông thôn as Sở Nông nghiệp và Môi trường, and Sở Lao động -
Thương binh và Xã hội into Sở Nội vụ (employment, foreign workers; its social-protection and
vocational-training tasks went to Sở Y tế and Sở Giáo dục và Đào tạo). Nghị định
150/2025/NĐ-CP (12/06/2025), which replaced it from 1 July 2025, keeps these departments. Only
the departments whose procedures the simulator draws are listed.
"""


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure (thủ tục hành chính) and how it is offered.

    Attributes:
        code: procedure code.
        name: Vietnamese name.
        agency: a department code, or `COMMUNE` for every commune People's Committee.
        level: online service level.
        eligible_full: may legally be offered full-process online (toàn trình).
        fee_bearing: a fee or charge is due.
        online_payment: the fee can be paid online (national payment portal).
        days: processing time in working days.
        weight: relative number of dossiers a day.
    """

    code: str
    name: str
    agency: str
    level: ServiceLevel
    eligible_full: bool
    fee_bearing: bool
    online_payment: bool
    days: int
    weight: float


_FULL, _PARTIAL, _NONE = ServiceLevel.FULL, ServiceLevel.PARTIAL, ServiceLevel.NONE


def _p(
    code: str,
    name: str,
    agency: str,
    level: ServiceLevel,
    days: int,
    weight: float,
    *,
    fee: bool = False,
    eligible: bool | None = None,
    pay_online: bool | None = None,
) -> Procedure:
    """A procedure; eligibility defaults to the level being full, online payment to the fee."""
    return Procedure(
        code=code,
        name=name,
        agency=agency,
        level=level,
        eligible_full=level is _FULL if eligible is None else eligible,
        fee_bearing=fee,
        online_payment=fee if pay_online is None else pay_online,
        days=days,
        weight=weight,
    )


PROCEDURES: Final[tuple[Procedure, ...]] = (
    # Sở Tư pháp
    _p("1.001191", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang "
       "cư trú tại Việt Nam", "SO-TP", _FULL, 10, 6.0, fee=True),
    _p("2.000488", "Đăng ký hành nghề và cấp Thẻ công chứng viên", "SO-TP", _PARTIAL, 5, 0.3,
       fee=True, eligible=True),
    _p("1.001756", "Cấp lại Phiếu lý lịch tư pháp", "SO-TP", _FULL, 3, 0.8, fee=True),
    # Sở Tài chính (business registration and investment, from Sở Kế hoạch và Đầu tư)
    _p("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân", "SO-TC", _FULL, 3, 3.0,
       fee=True),
    _p("2.001199", "Đăng ký thành lập công ty TNHH một thành viên", "SO-TC", _FULL, 3, 4.0,
       fee=True),
    _p("2.002035", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "SO-TC", _FULL, 3, 5.0,
       fee=True),
    _p("1.009645", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", "SO-TC",
       _PARTIAL, 25, 0.2, eligible=False),
    # Sở Nông nghiệp và Môi trường (land and water, from Sở Tài nguyên và Môi trường)
    _p("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
       "SO-NNMT", _PARTIAL, 10, 8.0, fee=True, eligible=True),
    _p("1.003003", "Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản "
       "khác gắn liền với đất", "SO-NNMT", _PARTIAL, 7, 4.0, fee=True, eligible=False),
    _p("1.000664", "Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", "SO-NNMT",
       _FULL, 2, 6.0, fee=True),
    _p("1.001990", "Cung cấp thông tin, dữ liệu đất đai", "SO-NNMT", _FULL, 2, 3.0, fee=True),
    _p("1.004253", "Cấp giấy phép khai thác, sử dụng nước dưới đất", "SO-NNMT", _NONE, 30, 0.1,
       fee=True, pay_online=False),
    # Sở Xây dựng (driving licences and transport, from Sở Giao thông vận tải)
    _p("1.002804", "Cấp đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "SO-XD",
       _FULL, 5, 8.0, fee=True),
    _p("1.002835", "Cấp lại giấy phép lái xe", "SO-XD", _PARTIAL, 10, 2.0, fee=True,
       eligible=True),
    _p("1.002859", "Cấp Giấy phép kinh doanh vận tải bằng xe ô tô", "SO-XD", _FULL, 5, 0.5,
       fee=True),
    _p("1.002856", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "SO-XD", _FULL, 2, 1.5),
    # Sở Xây dựng
    _p("1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
       "SO-XD", _PARTIAL, 20, 0.5, fee=True, eligible=True),
    _p("1.009928", "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III", "SO-XD",
       _FULL, 20, 0.8, fee=True),
    _p("1.009794", "Thẩm định Báo cáo nghiên cứu khả thi đầu tư xây dựng", "SO-XD", _NONE, 30,
       0.2, fee=True, pay_online=False),
    # Sở Y tế
    _p("1.004248", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "SO-YT", _PARTIAL, 30, 0.6,
       fee=True, eligible=True),
    _p("1.001009", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "SO-YT",
       _PARTIAL, 15, 0.8, fee=True, eligible=True),
    _p("1.003586", "Cấp giấy phép hoạt động đối với phòng khám đa khoa", "SO-YT", _PARTIAL, 45,
       0.1, fee=True, eligible=False, pay_online=False),
    # Sở Giáo dục và Đào tạo
    _p("2.001914", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "SO-GDDT", _FULL, 1, 2.0),
    _p("1.005095", "Chỉnh sửa nội dung văn bằng, chứng chỉ", "SO-GDDT", _PARTIAL, 5, 0.3,
       eligible=True),
    _p("1.005067", "Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", "SO-GDDT",
       _PARTIAL, 15, 0.1, eligible=False),
    # Sở Nội vụ (employment, from Sở Lao động - Thương binh và Xã hội)
    _p("1.001978", "Giải quyết hưởng trợ cấp thất nghiệp", "SO-NV", _PARTIAL, 20, 3.0,
       eligible=True),
    _p("1.000459", "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
       "SO-NV", _FULL, 5, 1.0, fee=True),
    _p("1.000105", "Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động",
       "SO-NV", _FULL, 5, 0.5, fee=True),
    # Every commune People's Committee (UBND xã, phường)
    _p("1.001193", "Đăng ký khai sinh", COMMUNE, _FULL, 1, 10.0),
    _p("1.000656", "Đăng ký khai tử", COMMUNE, _FULL, 1, 3.0),
    _p("1.000894", "Đăng ký kết hôn", COMMUNE, _PARTIAL, 5, 3.0, eligible=True),
    _p("2.000635", "Cấp bản sao trích lục hộ tịch", COMMUNE, _FULL, 1, 8.0, fee=True),
    _p("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", COMMUNE, _FULL, 3, 6.0, fee=True),
    _p("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền "
       "của Việt Nam cấp", COMMUNE, _PARTIAL, 1, 15.0, fee=True, eligible=True),
    _p("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", COMMUNE, _PARTIAL, 1, 5.0,
       fee=True, eligible=False),
    _p("2.000720", "Đăng ký thành lập hộ kinh doanh", COMMUNE, _FULL, 3, 3.0, fee=True),
    _p("1.010007", "Cấp giấy phép xây dựng đối với nhà ở riêng lẻ", COMMUNE, _PARTIAL, 15, 2.0,
       fee=True, eligible=True),
    _p("1.004859", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", COMMUNE, _FULL, 3,
       1.5, fee=True),
    _p("1.010089", "Xác nhận thông tin hộ tịch", COMMUNE, _FULL, 3, 1.0),
    _p("1.001022", "Đăng ký nhận cha, mẹ, con", COMMUNE, _PARTIAL, 3, 0.3, fee=True,
       eligible=True),
    _p("1.004203", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", COMMUNE, _PARTIAL, 20,
       1.0, fee=True, eligible=False),
    _p("1.001776", "Trợ cấp xã hội hằng tháng đối với đối tượng bảo trợ xã hội", COMMUNE,
       _PARTIAL, 20, 1.0, eligible=True),
    _p("1.001731", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", COMMUNE, _NONE, 5,
       0.3),
)  # fmt: skip
"""The procedures offered, in catalogue order."""
