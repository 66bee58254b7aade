"""Schemathesis against our own OpenAPI schema: every documented route, with generated
parameters and bodies, never answers 500 and always answers in the shape the schema documents.

(Schemathesis's pytest plugin does not load under this pytest; its operations and Hypothesis
strategies are driven directly instead.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from paperfeed.config import Settings
from paperfeed.search.embedder import HashingEmbedder
from paperfeed.store.engine import make_engine
from paperfeed.store.migrate import upgrade
from paperfeed.web.app import create_app
from tests.web.conftest import fill_store


def test_every_route_answers_as_documented(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'paperfeed.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fill_store(engine, tmp_path)
    engine.dispose()
    app = create_app(
        Settings(home=tmp_path, db=url, base_url="http://testserver", rate_limits=False),
        HashingEmbedder,
    )
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
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            exercise()
        except BaseException as error:  # (every operation's problems, then one failure)
            if isinstance(error, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    if failures:
        pytest.fail("\n\n".join(failures))
