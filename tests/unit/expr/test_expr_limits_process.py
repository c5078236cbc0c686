"""The worst expression payloads through a real ``lanner run``: each run ends
with its task FAILED and the limit named in the task's error log, and no
process — ``lanner run`` or its jq helper — goes past 300 MB of RSS.

The peak is measured by a small parent process that runs every
``lanner run`` and then reads ``getrusage(RUSAGE_CHILDREN)``: the largest
peak RSS of the processes it waited for and of the ones they waited for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

LANNER = str(Path(sys.executable).parent / "lanner")
MAX_RSS_MB = 300

_LIST_CHAIN = "{% set a = [1,2,3,4,5,6,7,8,9,10] %}" + "{% set a = [a,a,a,a,a,a,a,a,a,a] %}" * 12
_MAP_CHAIN = "{% set a = {'k': 'v'} %}" + "{% set a = {'a':a,'b':a,'c':a,'d':a,'e':a} %}" * 16
_LAUGHS = "\n".join(
    [f"l0: &l0 [{','.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)
_BIG = "{% set s = range(0, 50000) | join('😀😀😀😀😀😀😀😀😀😀') %}"

# flow id -> (message template, what the error must name)
PAYLOADS: dict[str, tuple[str, str]] = {
    "list_chain": (_LIST_CHAIN + "{{ a }}", "the limit for one value"),
    "map_chain": (_MAP_CHAIN + "{{ a }}", "the limit for one value"),
    "squares": ("{% set x = 3 %}" + "{% set x = x * x %}" * 40 + "{{ x }}", "64-bit integer"),
    "laughs": ("{{ yaml(vars.laughs) }}", "the limit for one value"),
    "indent": ("{{ range(0, 99999) | join('\n') | nindent(1000) }}", "output limit"),
    "many_strings": (
        _BIG + "".join(f"{{% set a{i} = s ~ {i} %}}" for i in range(40)) + "{{ a1 | length }}",
        "the memory limit of a render",
    ),
    # Which comes first depends on the machine's speed; either ends it.
    "jq_range": ("{{ 1 | jq('[range(1e9)]') }}", "the memory limit|the time limit"),
    "jq_memory": ("{{ 1 | jq('\"x\" * 300000000') }}", "the memory limit"),
    "jq_loop": ("{{ 1 | jq('def f: f; f') }}", "the time limit"),
    "jq_env": ("{{ {} | jq('$ENV.SECRET_LEAK, env.SECRET_LEAK') | first | length }}", ""),
}

_DRIVER = """
import json, resource, subprocess, sys
runs = []
for command in json.loads(sys.argv[1]):
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    runs.append({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"runs": runs, "peak_kb": peak_kb}))
"""


def _flow(flow_id: str, message: str) -> str:
    return json.dumps(
        {
            "id": flow_id,
            "namespace": "company.team",
            "variables": {"laughs": _LAUGHS},
            "tasks": [
                {"id": "payload", "type": "io.kestra.plugin.core.log.Log", "message": message}
            ],
        },
        ensure_ascii=False,  # YAML does not read JSON's surrogate pairs
    )


def test_worst_payloads_fail_their_task_within_300_mb(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_DB": f"sqlite:///{tmp_path}/lanner.db",
        "SECRET_LEAK": "dGhlLXNlY3JldC12YWx1ZQ==",
    }
    env.pop("LANNER_CONFIG", None)
    commands = []
    for flow_id, (message, _) in PAYLOADS.items():
        path = tmp_path / f"{flow_id}.yml"
        path.write_text(_flow(flow_id, message))  # JSON is YAML
        commands.append([LANNER, "run", str(path), "--json"])
    driver = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert driver.returncode == 0, driver.stderr
    report = json.loads(driver.stdout)

    for (flow_id, (_, limit)), run in zip(PAYLOADS.items(), report["runs"], strict=True):
        assert run["rc"] in (0, 1), (flow_id, run["rc"], run["stderr"][-2000:])
        execution = json.loads(run["stdout"])
        task_state = execution["taskRunList"][0]["state"]["current"]
        logs = subprocess.run(
            [LANNER, "logs", execution["id"], "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        messages = [r["message"] for r in json.loads(logs.stdout) if r["level"] == "ERROR"]
        if flow_id == "jq_env":
            # Not a limit: the environment is simply not there.
            assert task_state == "SUCCESS", messages
            assert not any("the-secret-value" in m for m in messages)
            continue
        assert execution["state"]["current"] == "FAILED", flow_id
        assert task_state == "FAILED", flow_id
        assert any(re.search(limit, m) for m in messages), (flow_id, messages)

    peak_mb = report["peak_kb"] / 1024
    assert peak_mb < MAX_RSS_MB, f"peak RSS {peak_mb:.0f} MB"
