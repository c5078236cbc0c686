"""The web UI's heaviest page (issue 10): an execution with 1,000 task runs (a
ForEach of 999 Return tasks, run for real by a `lanner server` on SQLite),
opened in headless Chromium (Debian's `chromium`, driven by playwright).

"Complete" is the latest of: the load event, the end of the last request the
page made (API calls included; the live stream of a finished execution ends at
once), and the moment its timeline shows every task run. Median of 7 loads;
bar: under 1 s.

    .venv/bin/python bench/bench_ui.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent.parent))  # run as a script: bench.* importable
from bench.bench_api import start_server, stop

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
RUNS = 999
FLOW = f"""\
id: wide
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: {list(range(RUNS))}
    concurrencyLimit: 0
    tasks:
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ taskrun.value }}}}"
"""

COMPLETE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const ends = performance.getEntriesByType("resource").map((r) => r.responseEnd);
  return Math.max(nav.loadEventEnd, window.__drawn || 0, ...ends);
}"""


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lanner-bench-") as home:
        server, base = start_server(f"sqlite://{home}/lanner.db", home)
        try:
            root = base.removesuffix("/api/v1/main")
            with httpx.Client(base_url=base, timeout=600) as client:
                deployed = client.post(
                    "/flows", content=FLOW, headers={"content-type": "application/x-yaml"}
                )
                assert deployed.status_code == 200, deployed.text
                t0 = time.perf_counter()
                run = client.post("/executions/bench/wide", params={"wait": "true"}).json()
                print(
                    f"  (ran {len(run['taskRunList'])} task runs in"
                    f" {time.perf_counter() - t0:.1f} s)",
                    file=sys.stderr,
                )
                assert run["state"]["current"] == "SUCCESS", run["state"]
                count = len(run["taskRunList"])
            times = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                for _ in range(7):
                    page = browser.new_page(
                        bypass_csp=True
                    )  # the probes below are evaluated scripts
                    page.goto(f"{root}/ui/executions/{run['id']}")
                    page.wait_for_function(
                        f"document.querySelectorAll('.gantt-row').length >= {count}"
                        " && (window.__drawn = window.__drawn || performance.now())",
                        timeout=60_000,
                    )
                    page.wait_for_load_state("networkidle")
                    times.append(page.evaluate(COMPLETE))
                    page.close()
                browser.close()
        finally:
            stop(server)
    median = statistics.median(times)
    ok = median < 1000
    print(
        f"{'execution page, ' + str(count) + ' task runs':<44}{median:>12.0f} ms"
        f"  < 1,000 ms {'ok' if ok else 'MISSED'}  (all: {', '.join(f'{t:.0f}' for t in times)})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
