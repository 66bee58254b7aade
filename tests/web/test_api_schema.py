"""Schemathesis against our own OpenAPI schema: every documented route, with generated
parameters and bodies, never answers 500 and always answers in the shape the schema documents.

(Schemathesis's pytest plugin does not load under this pytest; its operations and Hypothesis
strategies are driven directly instead.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app
from tests.web.conftest import fill_store

#: Every answer is checked against the documented response model (the typed shapes of
#: ``web/api_models.py``), its status, content type and headers, and none may be a 500.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _app(tmp_path: Path) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'paperfeed.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill_store(engine, tmp_path)
    engine.dispose()
    return create_app(
        Settings(home=tmp_path, db=url, base_url="http://testserver", rate_limits=False),
        HashingEmbedder,
    )


def test_every_json_route_documents_a_typed_answer(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        paths = client.get("/openapi.json").json()["paths"]
    untyped = []
    api = {path: methods for path, methods in paths.items() if path.startswith("/api/")}
    for path, methods in api.items():
        for method, operation in methods.items():
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            schema = operation["responses"][ok]["content"]["application/json"]["schema"]
            if "$ref" not in schema and "$ref" not in schema.get("items", {}):
                untyped.append(f"{method.upper()} {path}: {schema}")
            errors = [c for c in operation["responses"] if c.startswith("4")]
            assert all(
                operation["responses"][c]["content"]["application/json"]["schema"]["$ref"]
                .endswith("/Problem") for c in errors if c != "422"
            ), (path, errors)  # fmt: skip
    assert len(api) >= 8 and not untyped, untyped


def test_every_route_answers_as_documented(tmp_path: Path) -> None:
    app = _app(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    for operation in operations:

        @given(operation.as_strategy())
        @settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case: schemathesis.Case) -> None:
            # (not "schema-valid data is accepted": a well-formed cursor or date the API never
            # gave out, or that does not exist, is rightly a 422)
            case.call_and_validate(checks=CHECKS, excluded_checks=[positive_data_acceptance])

        try:
            exercise()
        except BaseException as error:  # (every operation's problems, then one failure)
            if isinstance(error, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    if failures:
        pytest.fail("\n\n".join(failures))
