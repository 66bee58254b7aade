"""The digests are tested against the same running site as the member pages."""

from tests.web.conftest import arxiv, inbox, site, site_home  # noqa: F401  (fixtures)
