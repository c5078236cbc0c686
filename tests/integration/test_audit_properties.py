"""Properties the audit found accepted and then ignored (issue 7 §6 rule), now
doing what Kestra documents, through the real CLI on a throw-away SQLite store."""

from __future__ import annotations

from tests.support.cli import FLOWS, lanner, logs, run_json


def test_a_task_keeps_only_its_log_lines_at_or_above_its_log_level(env: dict[str, str]) -> None:
    execution = run_json(FLOWS / "log_level.yml", env)
    assert execution["state"]["current"] == "FAILED"
    lines = logs(execution["id"], env)
    by_task = {t: [(level, m) for t2, level, m in lines if t2 == t] for t, _, _ in lines}
    assert "quiet" not in by_task and "debug_dropped" not in by_task
    assert by_task["loud"] == [("WARN", "warn line")]
    assert by_task["everything"] == [("TRACE", "trace line")]
    assert ("ERROR", "the error line stays") in by_task["fails"]
    assert all(level == "ERROR" for level, _ in by_task["fails"])


CONDITIONAL = FLOWS / "conditional_inputs.yml"


def test_an_input_whose_condition_is_false_is_disabled(env: dict[str, str]) -> None:
    # `approver` is required but its condition is false: no error, no value, and
    # `ticket`, which depends on it, is disabled too (its default is not applied).
    execution = run_json(CONDITIONAL, env, "--input", "approver=ignored")
    assert execution["state"]["current"] == "SUCCESS"
    assert execution["inputs"] == {
        "env": "dev",
        "label": "conditional_inputs-dev",
        "region": "local",
    }


def test_an_input_whose_condition_is_true_is_required_and_takes_its_default(
    env: dict[str, str],
) -> None:
    proc = lanner("run", str(CONDITIONAL), "--input", "env=prod", env=env)
    assert proc.returncode == 2
    assert "input 'approver': missing (it is required and has no default)" in proc.stderr
    execution = run_json(CONDITIONAL, env, "--input", "env=prod", "--input", "approver=bob")
    assert execution["inputs"] == {
        "env": "prod",
        "approver": "bob",
        "ticket": 0,
        "label": "conditional_inputs-prod",
        "region": "eu",
    }


def test_a_select_expression_renders_its_allowed_values(env: dict[str, str]) -> None:
    proc = lanner("run", str(CONDITIONAL), "--input", "region=us", env=env)
    assert proc.returncode == 2 and "input 'region': 'us' is not one of 'local'" in proc.stderr
    execution = run_json(
        CONDITIONAL, env, "--input", "env=prod", "--input", "approver=a", "--input", "region=us"
    )
    assert execution["inputs"]["region"] == "us"


def test_an_expression_default_is_rendered_when_the_execution_is_created(
    env: dict[str, str],
) -> None:
    execution = run_json(CONDITIONAL, env, "--input", "env=qa")
    assert execution["inputs"]["label"] == "conditional_inputs-qa"
    shown = [m for t, _, m in logs(execution["id"], env) if t == "show"]
    assert shown and "conditional_inputs-qa" in shown[0] and "{{" not in shown[0]
