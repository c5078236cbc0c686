"""SPEC §5.5–§5.9, §1.2: Parallel, ForEach, EachSequential/EachParallel, If,
Switch and disabled tasks."""

from __future__ import annotations

import pytest

from lanner.engine.events import Start
from lanner.model.states import State
from tests.unit.engine.support import Driver, order, run, run_of, runs_of, state_of

# -- Parallel ------------------------------------------------------------------------------

PARALLEL = """
tasks:
  - id: par
    type: Parallel
    concurrent: LIMIT
    tasks:
      - id: a
        type: Log
        message: a
      - id: b
        type: Log
        message: b
      - id: c
        type: Log
        message: c
"""


def test_parallel_children_start_together() -> None:
    """§5.6: all children are created at once (concurrent 0 = no limit)."""
    d = Driver.of(PARALLEL.replace("LIMIT", "0"))
    d.plan(Start())
    assert d.dispatched() == ["a", "b", "c"]
    d.plan(d.result("b"), d.result("a"), d.result("c"))
    assert d.execution.state is State.SUCCESS


def test_parallel_concurrent_limit() -> None:
    """§5.6: at most `concurrent` children run; the next starts when one ends."""
    d = Driver.of(PARALLEL.replace("LIMIT", "2"))
    d.plan(Start())
    assert d.dispatched() == ["a", "b"]
    d.plan(d.result("b"))
    assert d.dispatched() == ["a", "b", "c"]
    d.plan(d.result("a"), d.result("c"))
    assert d.run("par").state is State.SUCCESS


def test_parallel_first_failure_stops_new_starts() -> None:
    """§5.6: after the first failure no new child starts."""
    sim = run(PARALLEL.replace("LIMIT", "1").replace("type: Log\n        message: a", "type: Fail"))
    assert sim.states() == [("par", "FAILED"), ("a", "FAILED")]
    assert sim.execution.state is State.FAILED


def test_parallel_failure_resolves_at_once_and_stops_running_siblings_C30() -> None:
    """[TEST C-30]: without errors/finally the Parallel is FAILED at once; a sibling
    still running is set to the parent's state and its job cancelled."""
    d = Driver.of(PARALLEL.replace("LIMIT", "0"))
    d.plan(Start())
    d.plan(d.result("a", State.FAILED, error="x"))
    assert d.run("par").state is State.FAILED
    assert d.run("b").state is State.FAILED
    assert d.cancelled() == ["b", "c"]
    assert d.execution.state is State.FAILED
    # the late result of a cancelled job changes nothing
    before = d.execution
    d.plan(d.result("b"))
    assert d.execution.task_runs == before.task_runs


def test_parallel_handlers_may_start_while_siblings_run_C23b() -> None:
    """§3.3: errors may start while sibling children are still running."""
    d = Driver.of(
        """
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: slow
                type: Log
                message: slow
              - id: bad
                type: Fail
            errors:
              - id: e1
                type: Log
                message: e1
        """
    )
    d.plan(Start())
    d.plan(d.result("bad", State.FAILED))
    assert d.run("slow").state is State.SUBMITTED
    assert d.dispatched() == ["slow", "bad", "e1"]
    d.plan(d.result("e1"))
    assert d.run("par").state is State.FAILED
    assert d.run("slow").state is State.FAILED  # force-set to the parent's state
    assert d.cancelled() == ["slow"]


# -- ForEach -------------------------------------------------------------------------------


def _foreach(values: str, limit: str = "1", extra: str = "") -> str:
    return f"""
tasks:
  - id: loop
    type: ForEach
    values: {values}
    concurrencyLimit: {limit}
    tasks:
      - id: item
        type: Log
        message: "{{{{ taskrun.value }}}}#{{{{ taskrun.iteration }}}}"
{extra}"""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param("[a, b, c]", ["a#0", "b#1", "c#2"], id="yaml-list"),
        pytest.param('\'["a", "b"]\'', ["a#0", "b#1"], id="json-string"),
        pytest.param("[a, b, a, c, b]", ["a#0", "b#1", "c#2"], id="distinct"),
        pytest.param('\'["x", "x"]\'', ["x#0"], id="distinct-json"),
        pytest.param("[1, '1', true, 2.5]", ["1#0", "true#1", "2.5#2"], id="scalars-as-strings"),
        pytest.param("[{k: v, n: 1}]", ['{"k":"v","n":1}#0'], id="map-as-compact-json"),
        pytest.param('"{{ [3, 4] | json }}"', ["3#0", "4#1"], id="rendered-json"),
    ],
)
def test_foreach_values_value_and_iteration(values: str, expected: list[str]) -> None:
    """§5.9: values from a YAML list or a JSON string, distinct, as strings;
    `taskrun.value` and `taskrun.iteration` (0-based)."""
    sim = run(_foreach(values))
    assert sim.messages("item") == expected
    assert sim.execution.state is State.SUCCESS


@pytest.mark.parametrize("values", ["[]", "'[]'"])
def test_foreach_empty_values_succeeds_without_children(values: str) -> None:
    sim = run(_foreach(values))
    assert sim.states() == [("loop", "SUCCESS")]


@pytest.mark.parametrize(
    ("values", "message"),
    [("'not json'", "JSON array"), ("'{\"a\": 1}'", "must be a list"), ("[a, null]", "null")],
)
def test_foreach_bad_values_fail_the_loop(values: str, message: str) -> None:
    sim = run(_foreach(values))
    assert sim.states() == [("loop", "FAILED")]
    assert message in sim.messages("loop")[0]


@pytest.mark.parametrize(
    ("limit", "first_wave"),
    [("1", ["item"]), ("0", ["item", "item", "item"]), ("2", ["item", "item"])],
)
def test_foreach_concurrency_limit(limit: str, first_wave: list[str]) -> None:
    """§5.9: 1 = one value at a time, in order; 0 = all; n = at most n groups."""
    d = Driver.of(_foreach("[a, b, c]", limit))
    d.plan(Start())
    assert d.dispatched() == first_wave
    while d.execution.state is not State.SUCCESS:
        pending = [r for r in d.execution.ordered_task_runs() if r.state is State.SUBMITTED]
        assert pending
        d.plan(*[d.result_of(r) for r in pending])
    assert [r.value for r in runs_of(d.execution, "item")] == ["a", "b", "c"]


def test_foreach_group_tasks_run_sequentially_per_value() -> None:
    sim = run(
        """
        tasks:
          - id: loop
            type: ForEach
            values: [a, b]
            tasks:
              - id: one
                type: Log
                message: "1{{ taskrun.value }}"
              - id: two
                type: Log
                message: "2{{ taskrun.value }}"
        """
    )
    assert [line.message for line in sim.logs] == ["1a", "2a", "1b", "2b"]


def test_foreach_outputs_by_value_C71() -> None:
    """§5.9 [TEST C-71 shape]: outputs.<id>[<value>].<prop>, also through an If in the loop."""
    sim = run(
        """
        tasks:
          - id: loop
            type: ForEach
            values: [a, b]
            concurrencyLimit: 0
            tasks:
              - id: direct
                type: Return
                format: "d-{{ taskrun.value }}"
              - id: cond
                type: If
                condition: "{{ taskrun.value == 'b' }}"
                then:
                  - id: nested
                    type: Return
                    format: "n-{{ parent.taskrun.value }}"
        outputs:
          - id: all
            type: STRING
            value: "{{ outputs.direct['a'].value }},{{ outputs.direct['b'].value }},{{ outputs.nested['b'].value }}"
        """
    )
    assert sim.execution.state is State.SUCCESS
    assert sim.execution.outputs == {"all": "d-a,d-b,n-b"}
    assert len(runs_of(sim.execution, "nested")) == 1


def test_nested_foreach_parent_and_parents_C68() -> None:
    """[TEST C-68 shape]: `parent` is the nearest ancestor with a value or outputs;
    `parents` lists them, nearest first."""
    sim = run(
        """
        tasks:
          - id: outer
            type: ForEach
            values: [a, b]
            tasks:
              - id: inner
                type: ForEach
                values: [1, 2]
                tasks:
                  - id: leaf
                    type: Log
                    message: "{{ parent.taskrun.value }}/{{ taskrun.value }}/{{ parents | length }}"
        """
    )
    assert sim.messages("leaf") == ["a/1/1", "a/2/1", "b/1/1", "b/2/1"]
    assert sim.execution.state is State.SUCCESS


def test_parents_include_flowable_outputs() -> None:
    """An If's outputs (evaluationResult) are visible to its children as parent.outputs."""
    sim = run(
        """
        tasks:
          - id: loop
            type: ForEach
            values: [v]
            tasks:
              - id: cond
                type: If
                condition: "true"
                then:
                  - id: leaf
                    type: Log
                    message: "{{ parent.outputs.evaluationResult }}|{{ parents[0].taskrun.value }}"
        """
    )
    assert sim.messages("leaf") == ["true|v"]


def test_each_sequential_runs_one_value_at_a_time() -> None:
    """§0 decision 7: EachSequential (`value`) is accepted, sequential per value."""
    d = Driver.of(
        """
        tasks:
          - id: loop
            type: EachSequential
            value: '["x", "y"]'
            tasks:
              - id: item
                type: Log
                message: "{{ taskrun.value }}"
        """
    )
    d.plan(Start())
    assert d.dispatched() == ["item"]
    d.plan(d.result_of(d.run("item", "x")))
    d.plan(d.result_of(d.run("item", "y")))
    assert d.execution.state is State.SUCCESS
    assert [r.value for r in runs_of(d.execution, "item")] == ["x", "y"]


@pytest.mark.parametrize(("limit", "first_wave"), [("0", 4), ("3", 3)])
def test_each_parallel_starts_every_pair(limit: str, first_wave: int) -> None:
    """EachParallel: every (value, task) pair at once, up to `concurrent`."""
    d = Driver.of(
        f"""
tasks:
  - id: loop
    type: EachParallel
    value: [x, y]
    concurrent: {limit}
    tasks:
      - id: one
        type: Log
        message: one
      - id: two
        type: Log
        message: two
"""
    )
    d.plan(Start())
    assert len(d.dispatched()) == first_wave
    while d.execution.state is not State.SUCCESS:
        pending = [r for r in d.execution.ordered_task_runs() if r.state is State.SUBMITTED]
        d.plan(*[d.result_of(r) for r in pending])
    assert len(runs_of(d.execution, "one")) == 2
    assert len(runs_of(d.execution, "two")) == 2


# -- If ------------------------------------------------------------------------------------

IF = """
tasks:
  - id: cond
    type: If
    condition: COND
    then:
      - id: yes
        type: Log
        message: yes
    else:
      - id: no
        type: Log
        message: no
"""


@pytest.mark.parametrize(
    ("condition", "branch"),
    [
        ("'true'", "yes"),
        ('"{{ true }}"', "yes"),
        ("\"{{ 'true' }}\"", "yes"),
        ('"{{ 1 }}"', "yes"),
        ("'False'", "yes"),
        ("'null'", "yes"),
        ("'0.0'", "yes"),
        ("'no'", "yes"),
        ("'false'", "no"),
        ('"{{ false }}"', "no"),
        ("\"{{ 'false' }}\"", "no"),
        ('"{{ 0 }}"', "no"),
        ('"{{ -0 }}"', "no"),
        ('"  false  "', "no"),
        ("\"{{ '' }}\"", "no"),
    ],
)
def test_if_truthiness_C66(condition: str, branch: str) -> None:
    """§5.7, §6.5 [TEST C-66]: falsy iff the trimmed text is false, 0, -0 or empty."""
    sim = run(IF.replace("COND", condition))
    assert order(sim) == ["cond", branch]
    assert run_of(sim.execution, "cond").outputs == {"evaluationResult": branch == "yes"}


def test_if_without_else_and_false_condition_C67() -> None:
    """[TEST C-67]: no else and a false condition → SUCCESS, no child task run."""
    sim = run(
        """
        tasks:
          - id: cond
            type: If
            condition: "false"
            then:
              - id: yes
                type: Log
                message: yes
        """
    )
    assert sim.states() == [("cond", "SUCCESS")]


def test_if_condition_render_error_fails_the_if_C70() -> None:
    """[TEST C-70]: the If task run is FAILED, no child, the execution FAILED."""
    sim = run(IF.replace("COND", '"{{ missing.value }}"'))
    assert sim.states() == [("cond", "FAILED")]
    assert sim.execution.state is State.FAILED
    assert "Unable to resolve state from the Flowable task cond" in sim.messages("cond")[0]


def test_if_condition_render_error_has_one_failed_attempt_C70() -> None:
    sim = run(IF.replace("COND", '"{{ missing.value }}"'))
    attempts = run_of(sim.execution, "cond").attempts
    assert [a.state for a in attempts] == [State.FAILED]


def test_if_condition_is_evaluated_once() -> None:
    """§5.7: the branch is remembered, even if the data changes later."""
    sim = run(
        """
        tasks:
          - id: cond
            type: If
            condition: "{{ vars.flag ?? true }}"
            then:
              - id: flip
                type: SetVariables
                variables:
                  flag: false
              - id: still_then
                type: Log
                message: then
            else:
              - id: no
                type: Log
                message: else
        """
    )
    assert order(sim) == ["cond", "flip", "still_then"]


# -- Switch --------------------------------------------------------------------------------

SWITCH = """
tasks:
  - id: sw
    type: Switch
    value: "{{ inputs.key }}"
    cases:
      one:
        - id: c1
          type: Log
          message: one
      "2":
        - id: c2
          type: Log
          message: two
DEFAULTS
inputs:
  - id: key
    type: STRING
"""

DEFAULTS = """    defaults:
      - id: dflt
        type: Log
        message: default"""


@pytest.mark.parametrize(
    ("key", "with_defaults", "expected", "outputs"),
    [
        ("one", True, [("sw", "SUCCESS"), ("c1", "SUCCESS")], {"value": "one", "defaults": False}),
        ("2", False, [("sw", "SUCCESS"), ("c2", "SUCCESS")], {"value": "2", "defaults": False}),
        ("ONE", True, [("sw", "SUCCESS"), ("dflt", "SUCCESS")], {"value": "ONE", "defaults": True}),
        ("zzz", False, [("sw", "FAILED")], {"value": "zzz", "defaults": True}),
    ],
    ids=["case", "numeric-key", "exact-match-only", "no-match-no-defaults-C64"],
)
def test_switch_cases_defaults_and_no_match(
    key: str, with_defaults: bool, expected: list[tuple[str, str]], outputs: dict[str, object]
) -> None:
    """§5.8 [TEST C-64]: exact string match, else defaults, else the Switch FAILED."""
    body = SWITCH.replace("DEFAULTS", DEFAULTS if with_defaults else "")
    sim = run(body, inputs={"key": key})
    assert sim.states() == expected
    assert run_of(sim.execution, "sw").outputs == outputs


# -- disabled tasks ------------------------------------------------------------------------


def test_disabled_tasks_get_no_task_run() -> None:
    """§1.2: disabled tasks are removed before scheduling, in every list."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
          - id: off
            type: Fail
            disabled: true
          - id: b
            type: Fail
        errors:
          - id: e_off
            type: Log
            message: off
            disabled: true
          - id: e
            type: Log
            message: e
        afterExecution:
          - id: x_off
            type: Log
            message: off
            disabled: true
        """
    )
    assert sim.states() == [("a", "SUCCESS"), ("b", "FAILED"), ("e", "SUCCESS")]
    assert sim.execution.finalized_at is not None


@pytest.mark.parametrize(
    "container",
    [
        "type: Sequential\n    tasks:",
        "type: Parallel\n    tasks:",
        "type: AllowFailure\n    tasks:",
        "type: ForEach\n    values: [a, b]\n    tasks:",
        "type: If\n    condition: 'true'\n    then:",
    ],
)
def test_flowable_with_all_children_disabled_succeeds_C32_C35(container: str) -> None:
    """[TEST C-32..C-35]: a flowable with no enabled child ends SUCCESS without children."""
    sim = run(
        f"""
tasks:
  - id: box
    {container}
      - id: off1
        type: Fail
        disabled: true
      - id: off2
        type: Fail
        disabled: true
  - id: next
    type: Log
    message: next
"""
    )
    assert sim.states() == [("box", "SUCCESS"), ("next", "SUCCESS")]
    assert sim.execution.state is State.SUCCESS


def test_disabled_flowable_is_skipped_entirely() -> None:
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            disabled: true
            tasks:
              - id: inner
                type: Fail
          - id: next
            type: Log
            message: next
        """
    )
    assert sim.states() == [("next", "SUCCESS")]


def test_sequential_children_state_and_order() -> None:
    sim = run(
        """
        tasks:
          - id: seq
            type: Sequential
            tasks:
              - id: s1
                type: Log
                message: s1
              - id: s2
                type: Return
                format: "{{ outputs.s1 ?? 'no-outputs' }}"
        """
    )
    assert order(sim) == ["seq", "s1", "s2"]
    assert state_of(sim, "seq") == "SUCCESS"
    assert run_of(sim.execution, "s2").outputs == {"value": "no-outputs"}


def test_children_of_a_flowable_in_a_loop_do_not_inherit_the_value() -> None:
    """As Kestra's FlowableUtils.resolveTasks: only the loop's direct children carry the
    value; deeper tasks read it as `parent.taskrun.value`."""
    sim = run(
        """
        tasks:
          - id: loop
            type: ForEach
            values: [a]
            tasks:
              - id: seq
                type: Sequential
                tasks:
                  - id: leaf
                    type: Log
                    message: "{{ taskrun.value ?? 'none' }} {{ parent.taskrun.value }}"
        """
    )
    assert sim.messages("leaf") == ["none a"]
    assert run_of(sim.execution, "seq").value == "a"
