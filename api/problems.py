"""The one place where errors become HTTP answers.

Under /sync: CouchDB's `{"error", "reason"}` (what PouchDB and CouchDB's replicator read);
elsewhere: RFC 9457 problem details (`application/problem+json`). Either way a `wipe`
flag is added when a device must erase its data, and an unexpected exception becomes a
500 that says nothing of the internals (and is logged with its traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from api.errors import ApiError
from dossiers.errors import DossierError, ValidationFailed
from signing.errors import SigningError
from sync.errors import DocumentError

log = logging.getLogger("doorstep.api")

_TITLES = {400: "Yêu cầu không hợp lệ", 401: "Chưa xác thực", 403: "Không được phép",
           404: "Không tìm thấy", 405: "Phương thức không được hỗ trợ", 409: "Xung đột",
           412: "Điều kiện không thỏa", 413: "Dữ liệu quá lớn", 415: "Kiểu nội dung không hỗ trợ",
           429: "Tạm thời bị khoá", 500: "Lỗi máy chủ"}
_COUCH_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                415: "bad_content_type", 429: "locked_out", 500: "unknown_error"}


def _classify(exc: Exception) -> tuple[int, str, str, bool, dict[str, Any]]:
    """status, couch error name, message, wipe, extra problem fields."""
    if isinstance(exc, DocumentError):
        return exc.status, exc.error, exc.reason, False, {}
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message, exc.wipe, {}
    if isinstance(exc, ValidationFailed):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return 422, "invalid", exc.message, False, {"errors": errors}
    if isinstance(exc, DossierError):
        return 400, "bad_request", exc.message, False, {}
    if isinstance(exc, SigningError):
        return 400, "bad_request", str(exc), False, {}
    if isinstance(exc, HTTPException):
        status = exc.status_code
        extra = {"errors": exc.extra} if isinstance(exc.extra, list | dict) and exc.extra else {}
        return status, _COUCH_NAMES.get(status, "error"), str(exc.detail), False, extra
    log.exception("unexpected error", exc_info=exc)
    return 500, "unknown_error", "internal server error", False, {}


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status, name, message, wipe, extra = _classify(exc)
    metrics = getattr(request.app.state, "services", None)
    if metrics is not None:
        metrics.metrics.errors.labels(str(status)).inc()
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if request.url.path.startswith("/sync"):
        body: dict[str, Any] = {"error": name, "reason": message}
        if wipe:
            body["wipe"] = True
        return Response(body, status_code=status, media_type="application/json",
                        headers=headers)
    problem: dict[str, Any] = {
        "type": f"https://doorstep.invalid/problems/{name}",
        "title": _TITLES.get(status, name),
        "status": status,
        "detail": message,
        **extra,
    }
    if wipe:
        problem["wipe"] = True
    return Response(problem, status_code=status, media_type="application/problem+json",
                    headers=headers)
