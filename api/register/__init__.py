"""The back office's register: a SQLite read model of every dossier, kept current from the
central changes feed (`Register`), its rows (`RegisterRow`) and queries (`DossierQuery`)."""

from api.register.queries import DossierQuery, Page
from api.register.rows import RegisterRow
from api.register.service import Register

__all__ = ["DossierQuery", "Page", "Register", "RegisterRow"]
