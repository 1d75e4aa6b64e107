"""sync.errors: CouchDB answers map onto one error class each, in one place."""

from __future__ import annotations

import pytest

from sync import errors


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (400, "bad_request", errors.BadRequest),
        (401, "unauthorized", errors.Unauthorized),
        (403, "forbidden", errors.Forbidden),
        (404, "not_found", errors.NotFound),
        (409, "conflict", errors.Conflict),
        (412, "missing_stub", errors.MissingStub),
        (412, "file_exists", errors.FileExists),
        (413, "too_large", errors.TooLarge),
        (418, "teapot", errors.PeerProtocolError),
    ],
)
def test_an_answer_maps_onto_its_error(status: int, name: str, expected: type) -> None:
    error = errors.from_answer(status, name, "why")
    assert type(error) is expected
    assert error.reason == "why"


def test_every_error_is_found_by_its_couchdb_name() -> None:
    for kind in errors.ALL_ERRORS:
        assert errors.named(kind.error) is kind
    assert errors.named("no_such_error") is None
