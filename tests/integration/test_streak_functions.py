"""consecutiveFailures() and flowRecovered() in `runIf`, through the real `lanner run`
on one store: the flow's past executions are read when afterExecution is planned."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import logs, run_json, write_flow

FLOW = """\
id: nightly
namespace: company.team
inputs:
  - id: ok
    type: BOOLEAN
tasks:
  - id: work
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ not inputs.ok }}"
afterExecution:
  - id: second_failure
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ consecutiveFailures() == 2 }}"
    message: "failed {{ consecutiveFailures() }} times in a row"
  - id: recovered
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ flowRecovered() }}"
    message: recovered
"""


def test_streak_functions_in_run_if(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write_flow(tmp_path, FLOW)
    seen = []
    for ok in ("false", "false", "false", "true", "true"):
        execution = run_json(flow, env, "--input", f"ok={ok}")
        ran = {
            t["taskId"]: t["state"]["current"]
            for t in execution["taskRunList"]
            if t["taskId"] in ("second_failure", "recovered")
        }
        lines = [m for task, _, m in logs(execution["id"], env) if task in ran]
        seen.append((execution["state"]["current"], ran, lines))
    assert seen == [
        ("FAILED", {"second_failure": "SKIPPED", "recovered": "SKIPPED"}, []),
        (
            "FAILED",
            {"second_failure": "SUCCESS", "recovered": "SKIPPED"},
            ["failed 2 times in a row"],
        ),
        ("FAILED", {"second_failure": "SKIPPED", "recovered": "SKIPPED"}, []),
        ("SUCCESS", {"second_failure": "SKIPPED", "recovered": "SUCCESS"}, ["recovered"]),
        ("SUCCESS", {"second_failure": "SKIPPED", "recovered": "SKIPPED"}, []),
    ]
