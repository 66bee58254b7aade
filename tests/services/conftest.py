"""Service tests that need a store with the sample corpus and its index."""

from tests.web.conftest import site_home  # noqa: F401  (fixture)
