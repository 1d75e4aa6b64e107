"""The handling service: blocking work behind the routes, always run in a worker thread.

Guarantees:
- Transitions of one dossier are serialised within the process (a lock per dossier, striped):
  the register is caught up, the event checked against the state it shows, written, and the
  register caught up again before the next transition of that dossier starts.
- The event is written once: a second writer of the same id (another process, or a device)
  gets a Conflict, answered 409; nothing already stored is overwritten.
- A result is sealed (signing.seal: the district's seal certificate, TSA timestamp) before
  anything is stored; `result:<dossier_id>` is replaced only while the dossier is resolved
  and not yet marked ready.
- Every write is recorded in the audit log (`dossier.event`, `dossier.result`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import msgspec

from api.errors import ApiError, ConflictError, InvalidInput, NotFoundError
from api.handling import decisions
from api.handling.schemas import EventRequest, ResultAnswer, TransitionAnswer
from dossiers.workflow import STATUS_LABELS, DossierState, apply, check, portal_status
from sync.errors import Conflict, NotFound

_STRIPES = 64
_LOCKS = tuple(threading.Lock() for _ in range(_STRIPES))


class HandlingUnavailable(ApiError):
    status = 503
    code = "handling_unavailable"


@contextmanager
def dossier_lock(dossier_id: str) -> Iterator[None]:
    """One dossier's transitions one at a time in this process (striped: bounded memory)."""
    with _LOCKS[zlib.crc32(dossier_id.encode()) % _STRIPES]:
        yield


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Handling:
    def __init__(self, services: Any, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.services = services
        self.clock = clock

    # --- shared steps ---------------------------------------------------------------------

    def _register(self) -> Any:
        register = getattr(self.services, "register", None)
        if register is None:
            raise HandlingUnavailable("Sổ theo dõi hồ sơ chưa sẵn sàng; hãy thử lại sau.")
        return register

    def _dossier(self, dossier_id: str) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = self.services.central.get(dossier_id)
        except NotFound:
            raise NotFoundError(f"Không có hồ sơ «{dossier_id}».") from None
        if doc.get("type") != "dossier":
            raise NotFoundError(f"Không có hồ sơ «{dossier_id}».")
        return doc

    def _state(self, register: Any, dossier_id: str) -> tuple[DossierState, Any]:
        state, policy = register.state(dossier_id), register.policy(dossier_id)
        if state is None or policy is None:
            raise ConflictError("Hồ sơ chưa được tiếp nhận xong (đang chờ kiểm tra tiếp nhận).")
        return state, policy

    def _audit(self, identity: Any, action: str, dossier_id: str, detail: str) -> None:
        self.services.audit.record(identity, action, [dossier_id], detail)

    # --- transitions ----------------------------------------------------------------------

    def record_event(self, identity: Any, dossier_id: str,
                     request: EventRequest) -> TransitionAnswer:
        role = decisions.back_office_role(identity.role)
        decisions.event_kind(request.kind)  # a 400 before any lookup
        register = self._register()
        with dossier_lock(dossier_id):
            register.catch_up()
            dossier = self._dossier(dossier_id)
            state, policy = self._state(register, dossier_id)
            n = decisions.next_number(register.events(dossier_id), request.kind)
            event = decisions.build_event(dossier, dossier_id, request, actor=identity.username,
                                          role=role, at=self.clock(), n=n)
            refusal = check(state, event, policy)
            if refusal is not None:
                raise decisions.refused(state, event, refusal)
            if event.kind == "result_ready":
                row = register.row(dossier_id)
                problem = decisions.result_ready_refusal(bool(row and row.has_result))
                if problem is not None:
                    raise problem
            doc: dict[str, Any] = msgspec.to_builtins(event)
            doc["_id"] = event.id
            try:
                self.services.central.put(doc)
            except Conflict:
                raise ConflictError(decisions.ALREADY_RECORDED) from None
            register.catch_up()
            after = apply(state, event, policy)
        self._audit(identity, "dossier.event", dossier_id, f"{event.kind} {event.id}")
        return _answer(dossier_id, event.id, event.kind, after)

    # --- the result -----------------------------------------------------------------------

    def _pki(self) -> tuple[Any, bytes]:
        from signing.pki import DistrictPki

        directory = self.services.settings.server.data_dir / "pki"
        passphrase = self.services.pki_passphrase
        if passphrase is None or not (directory / "state.json").exists():
            raise HandlingUnavailable(
                "Máy chủ chưa được cấu hình hạ tầng khoá công khai để đóng dấu kết quả "
                "(thiếu thư mục pki hoặc DOORSTEP_PKI_PASSPHRASE).")
        return DistrictPki.open(directory), passphrase

    def store_result(self, identity: Any, dossier_id: str, pdf: bytes) -> ResultAnswer:
        from signing.pki import seal_authority
        from signing.seal import SealError, seal_result

        decisions.back_office_role(identity.role)
        register = self._register()
        with dossier_lock(dossier_id):
            register.catch_up()
            dossier = self._dossier(dossier_id)
            problem = decisions.result_upload_refusal(register.state(dossier_id))
            if problem is not None:
                raise problem
            pki, passphrase = self._pki()
            sealed_at = self.clock()
            try:
                sealed = seal_result(pdf, pki, passphrase, now=sealed_at)
            except SealError as exc:
                raise InvalidInput(decisions.SEAL_MESSAGES.get(exc.code, str(exc))) from None
            cert, _ = pki.seal(passphrase)
            row = register.row(dossier_id)
            doc = decisions.result_document(
                dossier, dossier_id, official_code=row.official_code if row else None,
                sealed_at=sealed_at, sealed_by=identity.username,
                authority=seal_authority(pki.state.name),
                certificate_serial=format(cert.serial_number, "X"))
            replaced = self._put_result(doc, sealed)
            register.catch_up()
        digest = hashlib.sha256(sealed).hexdigest()
        self._audit(identity, "dossier.result", dossier_id,
                    f"{'replaced' if replaced else 'stored'} sha256={digest}")
        return ResultAnswer(dossier_id=dossier_id, result_id=doc["_id"],
                            official_code=doc["official_code"], sealed_at=sealed_at,
                            sealed_by=identity.username, seal_authority=doc["seal_authority"],
                            seal_certificate=doc["seal_certificate"], length=len(sealed),
                            sha256=digest, replaced=replaced)

    def _put_result(self, doc: dict[str, Any], sealed: bytes) -> bool:
        """Store the result (replacing an earlier upload); answer whether one was replaced."""
        central = self.services.central
        with suppress(NotFound):
            doc["_rev"] = central.get(doc["_id"])["_rev"]
        doc["_attachments"] = {decisions.RESULT_PDF: {
            "content_type": "application/pdf", "data": base64.b64encode(sealed).decode()}}
        try:
            central.put(doc)
        except Conflict:
            raise ConflictError(decisions.ALREADY_RECORDED) from None
        return "_rev" in doc


def _answer(dossier_id: str, event_id: str, kind: str, state: DossierState) -> TransitionAnswer:
    status = state.status
    assert status is not None  # an applied event always leaves a status
    return TransitionAnswer(
        dossier_id=dossier_id, event_id=event_id, kind=kind, status=status.value,
        status_label=STATUS_LABELS[status], portal_status=portal_status(state),
        due_date=state.due_date, due_before_extension=state.due_before_extension,
        supplement_requests=state.supplement_requests)
