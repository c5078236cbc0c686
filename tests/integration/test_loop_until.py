"""LoopUntil and WaitFor end to end (docs/flowables.md): `lanner run`, and a server
SIGKILLed between two iterations whose successor goes on with the loop (the
interval is a persisted timer)."""

from __future__ import annotations

from pathlib import Path

from lanner.engine.execution import Execution
from lanner.model.states import State
from tests.support.cli import logs, run_json
from tests.support.cluster import Cluster

FLOWS = Path(__file__).parent / "flows"


def test_loop_until_runs_until_its_condition_holds(env: dict[str, str]) -> None:
    execution = run_json("loop_until.yml", env)
    assert execution["state"]["current"] == "SUCCESS"
    iterations = [r.get("iteration") for r in execution["taskRunList"] if r["taskId"] == "check"]
    assert iterations == [1, 2, 3]
    [poll] = [r for r in execution["taskRunList"] if r["taskId"] == "poll"]
    assert poll["outputs"] == {"iterationCount": 3}
    said = [m for t, _, m in logs(execution["id"], env) if t in ("said", "done")]
    assert said == ["iteration 1 saw 1", "iteration 2 saw 2", "iteration 3 saw 3", "done after 3"]


def test_wait_for_gives_up_after_max_iterations(env: dict[str, str]) -> None:
    execution = run_json("wait_for_bounded.yml", env)
    assert execution["state"]["current"] == "FAILED"
    states = [(r["taskId"], r["state"]["current"]) for r in execution["taskRunList"]]
    assert states == [
        ("wait", "FAILED"),
        ("probe", "SUCCESS"),
        ("probe", "SUCCESS"),
        ("alert", "SUCCESS"),
    ]
    lines = logs(execution["id"], env)
    assert ("alert", "INFO", "gave up: Max iterations reached (2)") in lines


def _waiting(cluster: Cluster, execution_id: str) -> bool:
    execution = cluster.store.get_execution(execution_id)
    assert execution is not None
    said = [r for r in execution.task_runs.values() if r.task_id == "said"]
    return len(said) == 1 and said[0].state is State.SUCCESS


def test_a_restarted_server_goes_on_with_the_loop(cluster: Cluster) -> None:
    cluster.deploy(FLOWS / "loop_until.yml")
    first = cluster.spawn("server")
    execution_id = cluster.start("control.test", "loop_until", {"every": "PT3S"})
    cluster.wait_for(lambda: _waiting(cluster, execution_id), 60, "the first iteration")
    first.kill()  # SIGKILL between iterations: only the stored timer knows what comes next
    cluster.spawn("server")
    [final] = cluster.wait_finalized([execution_id], 90)
    assert final.state is State.SUCCESS
    assert _iterations(final) == [1, 2, 3]


def _iterations(execution: Execution) -> list[int | None]:
    return [r.iteration for r in execution.ordered_task_runs() if r.task_id == "check"]
