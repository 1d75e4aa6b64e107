"""One month of dossiers with known outcomes, for the reports and exports scenarios.

"Today" is fixed at Friday 20 March 2026, 10:00 in Hà Nội (the register's clock), and
March 2026 has no holiday, so every count below can be worked out by hand:

procedure 1.001022 (3 working days), officer1, ward 00004, received Mon 02/03 09:00
(appointment Thu 05/03), except A5:
  A1 resolved Wed 04/03, returned Fri 06/03   early    2 working days to resolve
  A2 resolved Thu 05/03                       on time  3
  A3 resolved Mon 09/03                       late     5
  A4 still processing                         overdue  (11 working days past 05/03)
  A5 received Wed 18/03 (due Mon 23/03)       pending
procedure 1.001776 (7 working days), officer2, ward 00005, received Mon 09/03 09:00
(appointment Wed 18/03):
  B1 rejected Tue 10/03                       early (finished, not resolved)
  B2 supplement requested Tue 10/03, waiting  pending (the clock is stopped)
  B3 extended on Mon 16/03 to Wed 25/03       overdue by the portal's rule (past 18/03),
                                              but not on the overdue list (due 25/03)
officer1, not received: N1 needs attention, S1 awaiting intake (both 03/03).
F1 was received Wed 25/02 (appointment Mon 02/03) and resolved 26/02: early, in February.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from register_helpers import Spec

from dossiers.calendar import LOCAL_TZ

TODAY = dt.date(2026, 3, 20)
NOW = dt.datetime(2026, 3, 20, 10, 0, tzinfo=LOCAL_TZ)
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
KIN = "1.001022"  # Đăng ký nhận cha, mẹ, con
ELDER = "1.001776"  # Trợ cấp xã hội hàng tháng đối với người cao tuổi


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=LOCAL_TZ)


def _worked(accepted: int, *more: tuple[str, dt.datetime, dict[str, Any]]
            ) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
    return [("accepted", at(accepted), {}), ("processing", at(accepted, 11), {}), *more]


def month_of_dossiers() -> dict[str, Spec]:
    kin = {"procedure": KIN, "officer": "officer1", "ward": "00004"}
    elder = {"procedure": ELDER, "officer": "officer2", "ward": "00005"}
    monday, monday9 = at(2, 9), at(9, 9)
    specs = {
        "A1": Spec(n=1, received_at=monday, events=_worked(
            2, ("resolved", at(4), {}), ("result_ready", at(4, 15), {}),
            ("returned", at(6), {"role": "officer", "actor": "officer1"})), **kin),
        "A2": Spec(n=2, received_at=monday, events=_worked(3, ("resolved", at(5, 16), {})),
                   **kin),
        "A3": Spec(n=3, received_at=monday, events=_worked(3, ("resolved", at(9), {})), **kin),
        "A4": Spec(n=4, received_at=monday, events=_worked(3), **kin),
        "A5": Spec(n=5, received_at=at(18, 9), **kin),
        "B1": Spec(n=11, received_at=monday9, events=[
            ("accepted", at(10), {}), ("rejected", at(10, 14), {"reason": "Không đủ điều kiện."})],
            **elder),
        "B2": Spec(n=12, received_at=monday9, events=[
            ("accepted", at(10), {}),
            ("supplement_requested", at(10, 14), {"missing": ["Giấy xác nhận cư trú"]})],
            **elder),
        "B3": Spec(n=13, received_at=monday9, events=_worked(9, (
            "extension_requested", at(16),
            {"apology": "Xin lỗi ông/bà vì chậm trễ.", "new_appointment": "2026-03-25"})),
            **elder),
        "N1": Spec(n=21, received_at=at(3, 9), outcome="needs_attention", **kin),
        "S1": Spec(n=22, received_at=at(3, 9), outcome=None, **kin),
        "F1": Spec(n=31, received_at=at(25, 9, month=2), events=[
            ("accepted", at(25, 10, month=2), {}), ("processing", at(25, 11, month=2), {}),
            ("resolved", at(26, 10, month=2), {})], **kin),
    }
    return specs


RECEIVED_IN_MARCH = ("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3")
