"""An execution search, as the store answers it: conditions, an order, a page.

The API turns Kestra's `filters[field][OPERATION]=value` into these; the SQL
stores answer them in SQL (:mod:`lanner.store.searchsql`), so that the first
page of a large table is an index read, not a scan in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lanner.engine.execution import Execution

# Text fields and what each operation means (CONTAINS ignores case, as Kestra's).
TEXT_FIELDS = ("namespace", "flow_id", "id")
TEXT_OPERATIONS = (
    "EQUALS",
    "NOT_EQUALS",
    "IN",
    "NOT_IN",
    "CONTAINS",
    "STARTS_WITH",
    "ENDS_WITH",
    "PREFIX",  # the value itself or below it: "a.b" matches "a.b" and "a.b.c"
    "REGEX",  # found anywhere in the text (Python's re on SQLite, POSIX on PostgreSQL)
)
DATE_FIELDS = ("start_date", "end_date")
DATE_OPERATIONS = (
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL_TO",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL_TO",
    "EQUALS",
    "NOT_EQUALS",
)
SORT_FIELDS = ("start_date", "end_date", "state", "id", "namespace", "flow_id")


@dataclass(frozen=True)
class TextCondition:
    field: str  # one of TEXT_FIELDS
    operation: str  # one of TEXT_OPERATIONS
    values: tuple[str, ...]  # one value, or several for IN / NOT_IN


@dataclass(frozen=True)
class StateCondition:
    states: frozenset[str]  # State values ("RUNNING")
    negated: bool = False


@dataclass(frozen=True)
class LabelCondition:
    labels: tuple[tuple[str, str], ...]  # every pair must hold (or, negated, none)
    negated: bool = False


@dataclass(frozen=True)
class DateCondition:
    field: str  # start_date or end_date (an execution not ended has none)
    operation: str  # one of DATE_OPERATIONS
    value: datetime


@dataclass(frozen=True)
class AnyTextCondition:
    """A substring (ignoring case) of the id, the namespace or the flow id."""

    needle: str


Condition = TextCondition | StateCondition | LabelCondition | DateCondition | AnyTextCondition


@dataclass(frozen=True)
class ExecutionSearch:
    conditions: tuple[Condition, ...] = ()
    # (field, descending); the most recent first when empty; ties by id
    sort: tuple[tuple[str, bool], ...] = ()
    offset: int = 0
    limit: int = 10
    count: bool = True  # also count every match (the page's `total`)
    task_runs: bool = False  # load the page's task runs too (in one more query)


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Execution]  # with their task runs when the search asked for them
    total: int  # every match (0 when not counted)
