"""Home visits planned by the back office: create, schedule, (re)assign, cancel."""

from api.visits.service import VisitFilter, VisitService

__all__ = ["VisitFilter", "VisitService"]
