"""Handling: the back office's transitions of a dossier and its sealed result.

`POST /api/dossiers/{dossier_id}/events` records a handler's or supervisor's event through
the domain's workflow; `POST /api/dossiers/{dossier_id}/result` seals and stores the result.
"""
