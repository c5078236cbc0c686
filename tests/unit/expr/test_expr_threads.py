"""One engine, many threads: each render sees only its own scope."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from lanner.expr import ExpressionEngine, Scope

TEMPLATE = (
    "{{ n }}:{{ n * 2 }}:{{ now('yyyy') }}:{{ render('{{ n + 1 }}') }}"
    "{% for i in 0..2 %}{{ loop.index }}{% endfor %}:{{ uuid() }}"
)


def test_render_from_many_threads() -> None:
    engine = ExpressionEngine()

    def work(n: int) -> tuple[str, str]:
        year = 2000 + n % 50
        scope = Scope(variables={"n": n}, now=dt.datetime(year, 1, 1, tzinfo=dt.UTC), seed=n)
        expected_prefix = f"{n}:{n * 2}:{year}:{n + 1}012:"
        results = {engine.render(TEMPLATE, scope) for _ in range(20)}
        assert len(results) == 1  # same seed, same text, whatever the other threads do
        return expected_prefix, results.pop()

    with ThreadPoolExecutor(max_workers=8) as pool:
        for prefix, output in pool.map(work, range(200)):
            assert output.startswith(prefix)
