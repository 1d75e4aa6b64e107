"""schemathesis against the OpenAPI document of the non-sync API: no input gives a 500.

Driven through hypothesis directly (each operation's strategy), against a real
`doorstep serve` process, both without credentials and as the administrator.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from gateway_helpers import RunningServer
from hypothesis import HealthCheck, given, settings


def test_no_input_gives_a_server_error(demo_server: RunningServer) -> None:
    schema = schemathesis.openapi.from_url(f"{demo_server.url}/schema/openapi.json")
    admin = {"Authorization": f"Bearer {demo_server.token('admin', 'fuzz')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            for headers in ({}, admin):
                response = case.call(base_url=demo_server.url, headers=headers)
                calls.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: "
                                    f"{response.status_code} {response.text[:200]}")

        run()
    assert failures == []
    assert len(calls) > 10 * len(operations)  # the cases really ran
    assert {200, 201} & set(calls) and {400, 401} <= set(calls)
