"""What an applicant pays: the procedure's fee rule applied to one declaration.

Exemptions come from the catalogue (Luật Hộ tịch Art 11: families of người có công, poor
households, people with disabilities; on-time khai sinh / khai tử). A fee the provincial
People's Council sets (`provincial`) needs that rate passed in: it is not national data.
"""

from __future__ import annotations

import datetime as dt

from dossiers.catalogue import EXEMPTION_LABELS, Exemption, ProcedureVersion
from dossiers.errors import FieldProblem, ValidationFailed
from dossiers.models import FeeAssessment, FormValue

_LABEL = "Lệ phí"


def _int_field(form: dict[str, FormValue], name: str | None) -> int:
    value = form.get(name or "", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def on_time(version: ProcedureVersion, form: dict[str, FormValue], received_on: dt.date) -> bool:
    """Whether the event the procedure registers is declared within its legal period."""
    rule = version.fee.free_if_on_time
    if rule is None:
        return False
    raw = form.get(rule.date_field)
    try:
        event_day = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return False
    return event_day is not None and 0 <= (received_on - event_day).days <= rule.within_days


def gross_amount(
    version: ProcedureVersion, form: dict[str, FormValue], provincial_rate: int | None
) -> int:
    """The fee before exemptions."""
    fee = version.fee
    if fee.kind == "free":
        return 0
    if fee.kind == "provincial":
        if provincial_rate is None or provincial_rate < 0:
            raise ValidationFailed(
                [FieldProblem("fee", _LABEL, f"chưa có mức thu do {fee.set_by} quy định.")]
            )
        return provincial_rate
    amount = fee.amount_vnd or 0
    copies = _int_field(form, fee.copies_field)
    if fee.kind == "flat":
        return amount
    if fee.kind == "per_copy":
        return amount * copies
    pages = _int_field(form, fee.pages_field)
    full = fee.full_rate_pages or 0
    per_copy = amount * min(pages, full) + (fee.next_pages_vnd or 0) * max(0, pages - full)
    if fee.max_per_copy_vnd is not None:
        per_copy = min(per_copy, fee.max_per_copy_vnd)
    return per_copy * copies


def assess_fee(
    version: ProcedureVersion,
    form: dict[str, FormValue],
    received_on: dt.date,
    *,
    exemption: Exemption | None = None,
    provincial_rate: int | None = None,
) -> FeeAssessment:
    """The fee for this declaration, with the exemption that applies (if any)."""
    if exemption is not None:
        if exemption not in version.fee.exemptions:
            label = EXEMPTION_LABELS.get(exemption, exemption)
            raise ValidationFailed(
                [FieldProblem("fee.exemption", _LABEL, f"không miễn cho «{label}» ở thủ tục này.")]
            )
        return FeeAssessment(amount_vnd=0, exemption=exemption, note=EXEMPTION_LABELS[exemption])
    if on_time(version, form, received_on):
        return FeeAssessment(amount_vnd=0, on_time_exempt=True, note="Đăng ký đúng hạn")
    return FeeAssessment(amount_vnd=gross_amount(version, form, provincial_rate))
