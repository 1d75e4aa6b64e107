"""The procedure catalogue: packaged data, versioned by effective date, and its loader."""

from dossiers.catalogue._loader import Catalogue, load_catalogue, parse_catalogue
from dossiers.catalogue._model import (
    EXEMPTION_LABELS,
    Choice,
    DocumentRequirement,
    Exemption,
    Fact,
    FeeRule,
    FormField,
    HomeService,
    OnTimeRule,
    Procedure,
    ProcedureCode,
    ProcedureVersion,
    TimeLimit,
)

__all__ = [
    "EXEMPTION_LABELS",
    "Catalogue",
    "Choice",
    "DocumentRequirement",
    "Exemption",
    "Fact",
    "FeeRule",
    "FormField",
    "HomeService",
    "OnTimeRule",
    "Procedure",
    "ProcedureCode",
    "ProcedureVersion",
    "TimeLimit",
    "load_catalogue",
    "parse_catalogue",
]
