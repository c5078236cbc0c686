"""An execution search (:mod:`lanner.store.search`) as SQL, for both dialects.

Every value is a parameter; the statement text holds only column names,
operators and the dialect's placeholder. What differs between SQLite and
PostgreSQL: how a label is read from the labels JSON document
(``{"v": 1, "d": {key: value}}``), REGEX (a ``regexp`` function the SQLite
store registers on its connections; ``~`` on PostgreSQL), and that
PostgreSQL needs NULLS FIRST/LAST spelled out to sort as SQLite does.
"""

from __future__ import annotations

from typing import Any

from lanner.store import codec
from lanner.store.search import (
    AnyTextCondition,
    Condition,
    DateCondition,
    ExecutionSearch,
    LabelCondition,
    StateCondition,
    TextCondition,
)

_COLUMNS = {
    "namespace": "namespace",
    "flow_id": "flow_id",
    "id": "id",
    "state": "state",
    "start_date": "created_at",
    "end_date": "terminal_at",
}
_COMPARE = {
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL_TO": ">=",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL_TO": "<=",
    "EQUALS": "=",
    "NOT_EQUALS": "<>",
}


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching itself (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _list(n: int) -> str:
    return "(" + ", ".join(["?"] * n) + ")"


class _Builder:
    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.params: list[Any] = []

    def add(self, *values: Any) -> None:
        self.params.extend(values)

    def condition(self, c: Condition) -> str:
        if isinstance(c, TextCondition):
            return self.text(_COLUMNS[c.field], c.operation, c.values)
        if isinstance(c, StateCondition):
            states = sorted(c.states)
            self.add(*states)
            return f"state {'NOT IN' if c.negated else 'IN'} {_list(len(states))}"
        if isinstance(c, LabelCondition):
            return self.labels(c)
        if isinstance(c, DateCondition):
            column = _COLUMNS[c.field]
            self.add(codec.to_micros(c.value))
            return f"({column} IS NOT NULL AND {column} {_COMPARE[c.operation]} ?)"
        if isinstance(c, AnyTextCondition):
            pattern = "%" + _like(c.needle.lower()) + "%"
            self.add(pattern, pattern, pattern)
            return (
                "(lower(id) LIKE ? ESCAPE '\\' OR lower(namespace) LIKE ? ESCAPE '\\'"
                " OR lower(flow_id) LIKE ? ESCAPE '\\')"
            )
        raise TypeError(f"not a search condition: {c!r}")

    def text(self, column: str, operation: str, values: tuple[str, ...]) -> str:
        value = values[0] if values else ""
        if operation in ("IN", "NOT_IN"):
            if not values:
                return "FALSE" if operation == "IN" else "TRUE"
            self.add(*values)
            return f"{column} {'NOT IN' if operation == 'NOT_IN' else 'IN'} {_list(len(values))}"
        if operation == "EQUALS":
            self.add(value)
            return f"{column} = ?"
        if operation == "NOT_EQUALS":
            self.add(value)
            return f"{column} <> ?"
        if operation == "CONTAINS":
            self.add("%" + _like(value.lower()) + "%")
            return f"lower({column}) LIKE ? ESCAPE '\\'"
        # substr() and length() compare case-sensitively on both databases (LIKE
        # ignores ASCII case on SQLite); the lengths are integers, not text.
        if operation == "STARTS_WITH":
            self.add(value)
            return f"substr({column}, 1, {len(value)}) = ?"
        if operation == "ENDS_WITH":
            self.add(value)
            return f"substr({column}, length({column}) - {len(value) - 1}) = ?"
        if operation == "PREFIX":
            self.add(value, value + ".")
            return f"({column} = ? OR substr({column}, 1, {len(value) + 1}) = ?)"
        if operation == "REGEX":
            self.add(value)
            return f"{column} ~ ?" if self.postgres else f"regexp(?, {column})"
        raise ValueError(f"operation {operation} not supported on {column}")

    def labels(self, c: LabelCondition) -> str:
        parts: list[str] = []
        for key, value in c.labels:
            # A cheap test first: the pair's JSON text is in the document (as the
            # store's encoder writes it); reading the JSON then rules out a pair
            # that is only text inside another value.
            self.add(codec.json_text({key: value})[1:-1], key, value)
            if self.postgres:
                test = (
                    "(strpos(labels, ?) > 0"
                    " AND (labels::jsonb -> 'd' ->> ?) IS NOT DISTINCT FROM ?)"
                )
            else:
                test = (
                    "(instr(labels, ?) > 0 AND EXISTS (SELECT 1 FROM"
                    " json_each(execution.labels, '$.d') WHERE key = ? AND value = ?))"
                )
            parts.append(f"NOT coalesce({test}, FALSE)" if c.negated else test)
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"

    def order(self, search: ExecutionSearch) -> str:
        keys = list(search.sort) or [("start_date", True)]
        terms = []
        for name, descending in keys:
            column = _COLUMNS[name]
            # SQLite's default: NULL sorts first ascending, last descending; only the end
            # date may be NULL (a NULLS clause on another column would keep PostgreSQL
            # from reading its index backwards).
            nulls = ""
            if self.postgres and column == "terminal_at":
                nulls = " NULLS LAST" if descending else " NULLS FIRST"
            terms.append(f"{column} {'DESC' if descending else 'ASC'}{nulls}")
        if not any(name == "id" for name, _ in keys):
            terms.append("id DESC")
        return " ORDER BY " + ", ".join(terms)


def build(
    search: ExecutionSearch, placeholder: str
) -> tuple[str, tuple[Any, ...], str | None, tuple[Any, ...]]:
    """(page query, its parameters, count query or None, its parameters)."""
    postgres = placeholder != "?"
    b = _Builder(postgres)
    where = [b.condition(c) for c in search.conditions]
    clause = " WHERE " + " AND ".join(where) if where else ""
    condition_params = tuple(b.params)
    page = (
        f"SELECT {codec.EXECUTION_COLUMNS} FROM execution{clause}{b.order(search)} LIMIT ? OFFSET ?"
    )
    count = f"SELECT count(*) FROM execution{clause}" if search.count else None
    if postgres:
        page = page.replace("?", placeholder)
        count = count.replace("?", placeholder) if count else None
    return page, (*condition_params, search.limit, search.offset), count, condition_params


def task_runs_of(n: int, placeholder: str) -> str:
    """The task runs of n executions (their ids the parameters), each execution's in seq order."""
    query = (
        f"SELECT {codec.TASK_RUN_COLUMNS} FROM task_run WHERE execution_id IN {_list(n)}"
        " ORDER BY execution_id, seq"
    )
    return query if placeholder == "?" else query.replace("?", placeholder)
