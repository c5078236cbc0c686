"""Fixtures of the integration tests: `env`, a CLI run's own LANNER_HOME and store."""

from tests.support.cli import env  # noqa: F401 (a fixture)
