"""The one-stop domain: procedure catalogue, dossiers and their workflow, working days.

Pure: nothing here does I/O except reading this package's own data files
(`catalogue/procedures.json`, `calendar_overrides.json`, `provinces.json`).
"""

from dossiers.calendar import LOCAL_TZ, WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, Procedure, ProcedureVersion, load_catalogue
from dossiers.deadlines import DeadlinePolicy, Timeliness, classify, end_of_processing
from dossiers.errors import DossierError, FieldProblem, ValidationFailed
from dossiers.models import Citizen, Dossier, Event, Visit
from dossiers.workflow import DossierState, Refusal, Status, check, fold, portal_status

__all__ = [
    "LOCAL_TZ",
    "Catalogue",
    "Citizen",
    "DeadlinePolicy",
    "Dossier",
    "DossierError",
    "DossierState",
    "Event",
    "FieldProblem",
    "Procedure",
    "ProcedureVersion",
    "Refusal",
    "Status",
    "Timeliness",
    "ValidationFailed",
    "Visit",
    "WorkingCalendar",
    "check",
    "classify",
    "default_calendar",
    "end_of_processing",
    "fold",
    "load_catalogue",
    "portal_status",
]
