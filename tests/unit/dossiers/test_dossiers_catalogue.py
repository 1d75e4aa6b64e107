"""The packaged procedure catalogue: contents the issue requires, flags, schema checks."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json

import pytest

from dossiers.catalogue import Catalogue, parse_catalogue
from dossiers.errors import CatalogueInvalid, UnknownProcedure

REQUIRED = {
    "2.000884": "chữ ký",
    "2.001035": "hợp đồng, giao dịch",
    "2.001019": "di chúc",
    "1.000419": "khai tử",
    "1.003583": "khai sinh",
    "2.000635": "trích lục",
    "1.004859": "cải chính",
    "1.001022": "nhận cha, mẹ, con",
    "1.001776": "trợ cấp xã hội",
}


def _raw() -> dict[str, object]:
    text = importlib.resources.files("dossiers.catalogue").joinpath("procedures.json").read_text(
        encoding="utf-8"
    )
    return json.loads(text)  # type: ignore[no-any-return]


def test_required_home_procedures_are_present(catalogue: Catalogue) -> None:
    for code, words in REQUIRED.items():
        version = catalogue.get(code).latest
        assert words in version.name.lower()
        assert version.home_service.allowed
    home = [p for p in catalogue if p.latest.home_service.allowed]
    assert len(home) >= 8


def test_certified_copies_are_office_only_with_the_legal_reason(catalogue: Catalogue) -> None:
    version = catalogue.get("2.000815").latest
    assert not version.home_service.allowed
    assert "Điều 10" in version.home_service.basis
    assert "tại trụ sở" in version.home_service.basis
    assert not version.result_home_delivery


def test_every_procedure_is_complete(catalogue: Catalogue) -> None:
    for procedure in catalogue:
        version = procedure.latest
        assert version.legal_basis and version.presence and version.form
        assert any(d.mandatory for d in version.documents)
        assert len({d.code for d in version.documents}) == len(version.documents)
        assert len({f.name for f in version.form}) == len(version.form)
        limit = version.time_limit
        assert (limit.kind == "same_day") == (limit.working_days == 0)
        if limit.kind == "same_day":
            assert limit.cutoff == "15:00"
        for field in version.form:
            assert field.label and field.label[0].isupper()
            if field.type == "choice":
                assert field.example in {c.value for c in field.choices}
        assert procedure.version_on(dt.date(2026, 2, 16)) is version


def test_civil_status_fees_carry_the_exemptions(catalogue: Catalogue) -> None:
    for code in ("1.000419", "1.003583", "1.004859", "1.001022"):
        fee = catalogue.get(code).latest.fee
        assert set(fee.exemptions) == {"nguoi_co_cong", "ho_ngheo", "nguoi_khuyet_tat"}
    death = catalogue.get("1.000419").latest.fee.free_if_on_time
    assert death is not None and (death.date_field, death.within_days) == ("ngay_chet", 15)


def test_unverified_facts_are_flagged_in_data_with_a_known_source(catalogue: Catalogue) -> None:
    sources = set(catalogue.sources)
    flagged = []
    for procedure in catalogue:
        version = procedure.latest
        facts = [procedure.code, version.time_limit, version.fee, *version.legal_basis]
        for fact in facts:
            assert fact.source in sources
            if not fact.verified:
                flagged.append(fact)
    # Codes come from secondary lists: all flagged until checked on csdl.dichvucong.gov.vn.
    assert all(not p.code.verified for p in catalogue)
    # The reference's own facts (e.g. the Luật Hộ tịch time limits) are not.
    assert catalogue.get("1.001022").latest.time_limit.verified
    assert len(flagged) > len(catalogue)


def test_unknown_codes_and_dates_before_a_version(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownProcedure, match=r"Không có thủ tục mã «9\.999999»"):
        catalogue.get("9.999999")
    with pytest.raises(UnknownProcedure, match="chưa có hiệu lực vào ngày 01/01/2020"):
        catalogue.version("2.000884", dt.date(2020, 1, 1))


def test_versions_are_chosen_by_effective_date() -> None:
    raw = _raw()
    procedure = raw["procedures"][0]  # type: ignore[index]
    newer = json.loads(json.dumps(procedure["versions"][0]))
    newer["effective_from"] = "2027-03-01"
    newer["name"] = "Chứng thực chữ ký (theo luật mới)"
    procedure["versions"].append(newer)
    catalogue = parse_catalogue(json.dumps(raw))
    code = procedure["code"]["value"]
    assert catalogue.version(code, dt.date(2027, 2, 28)).effective_from == dt.date(2025, 7, 1)
    assert catalogue.version(code, dt.date(2027, 3, 1)).name.endswith("(theo luật mới)")
    assert catalogue.get(code).latest.version == "2027-03-01"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["procedures"][0]["versions"][0].update(colour="red"), "colour"),
        (lambda r: r["procedures"][0]["versions"][0]["time_limit"].update(kind="weeks"), "kind"),
        (lambda r: r["procedures"][0]["versions"][0]["form"].append({"group": "nope"}), "nope"),
        (lambda r: r["procedures"].append(r["procedures"][0]), "bị lặp"),
        (lambda r: r.pop("procedures"), "không hợp lệ"),
    ],
)
def test_broken_catalogue_data_is_refused(mutate: object, message: str) -> None:
    raw = _raw()
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(CatalogueInvalid, match=message):
        parse_catalogue(json.dumps(raw))


def test_time_limit_variant_for_bo_sung(catalogue: Catalogue) -> None:
    limit = catalogue.get("1.004859").latest.time_limit
    assert limit.for_form({"loai_yeu_cau": "cai_chinh"}).working_days == 3
    same_day = limit.for_form({"loai_yeu_cau": "bo_sung"})
    assert (same_day.kind, same_day.cutoff) == ("same_day", "15:00")
