"""A pytest plugin for CI (`.ci/run` loads it with ``-p``): a run in which any
test was skipped fails.

CI starts every service the tests need, so a skip there means a service or a
program is missing and its tests did not run: a failure, never a green run
that tested less than it claims.
"""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if reporter is not None and skipped and session.exitstatus == pytest.ExitCode.OK:
        reporter.write_line(
            f"{len(skipped)} test(s) skipped: every test must run in CI", red=True, bold=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
