"""Handling routes: thin; each checks the request's shape and hands the work to `Handling`
in a worker thread (sealing and storage block; the event loop never does)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.auth.controllers import current_identity
from api.auth.service import Identity
from api.errors import InvalidInput, TooLargeError, UnsupportedMedia
from api.handling.decisions import back_office_role
from api.handling.schemas import EventRequest, ResultAnswer, TransitionAnswer
from api.handling.service import Handling

PDF = "application/pdf"


def _handling(request: Request[Any, Any, Any]) -> Handling:
    return Handling(request.app.state.services)


def _limit(request: Request[Any, Any, Any]) -> int:
    return int(request.app.state.services.settings.sync.max_attachment_bytes)


def _too_large(limit: int) -> TooLargeError:
    return TooLargeError(f"Tệp kết quả vượt quá giới hạn {limit // 1024} KiB.")


async def _pdf_body(request: Request[Any, Any, Any]) -> bytes:
    """The uploaded PDF: the right type, within the limit (checked before reading when the
    length is declared), not empty."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != PDF:
        raise UnsupportedMedia(f"Kết quả phải được gửi dưới dạng {PDF}, không phải "
                               f"«{media or 'không rõ'}».")
    limit = _limit(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = await request.body()
    if len(body) > limit:
        raise _too_large(limit)
    if not body:
        raise InvalidInput("Chưa gửi tệp kết quả (nội dung trống).")
    return body


class HandlingController(Controller):
    path = "/api/dossiers"
    tags = ("handling",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @post("/{dossier_id:str}/events", status_code=201,
          summary="Record a transition (accept, supplement request, reject, extension, "
                  "processing, resolved, result_ready...) through the workflow's rules")
    async def record_event(self, request: Request[Any, Any, Any],
                           identity: NamedDependency[Identity], dossier_id: FromPath[str],
                           data: JSONBody[EventRequest]) -> TransitionAnswer:
        handling = _handling(request)
        answer: TransitionAnswer = await anyio.to_thread.run_sync(
            handling.record_event, identity, dossier_id, data)
        return answer

    @post("/{dossier_id:str}/result", status_code=201,
          summary="Upload the result PDF of a resolved dossier: sealed with the district's "
                  "certificate and timestamped, stored as result:<dossier_id>")
    async def upload_result(self, request: Request[Any, Any, Any],
                            identity: NamedDependency[Identity],
                            dossier_id: FromPath[str]) -> ResultAnswer:
        back_office_role(identity.role)  # refuse before reading a body we will not use
        handling = _handling(request)
        pdf = await _pdf_body(request)
        answer: ResultAnswer = await anyio.to_thread.run_sync(
            handling.store_result, identity, dossier_id, pdf)
        return answer


ROUTES = [HandlingController]
