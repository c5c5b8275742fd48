"""GET /health: 200 while the database answers, 503 when it does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from relance.handlers import health
from relance.runtime import Runtime
from tests.fixtures.saleor import serve, unreachable_database_url


def app_on(runtime: Runtime) -> Starlette:
    app = Starlette(routes=health.routes())
    app.state.runtime = runtime
    return app


def test_healthy_when_the_database_answers(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    with serve(app_on(make_runtime(database_url))) as client:
        response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_unavailable_when_the_database_does_not(
    database_url: str, make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    # given a runtime whose database cannot be reached
    runtime = make_runtime(unreachable_database_url(database_url, tmp_path))
    # then /health says so with a 503 (load balancers stop sending traffic)
    with serve(app_on(runtime)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
