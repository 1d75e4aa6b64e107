"""The append-only audit log of every read and write of a dossier (see `api.audit.log`)."""

from api.audit.entries import AuditEntry
from api.audit.log import AUDIT_DB, AuditLog, AuditPage, open_audit
from api.audit.queries import AuditQuery, parse_query

__all__ = ["AUDIT_DB", "AuditEntry", "AuditLog", "AuditPage", "AuditQuery", "open_audit",
           "parse_query"]
