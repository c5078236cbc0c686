"""The limits that keep loading a flow or an input bounded (docs/limits.md).

Each is checked *before* the work it bounds: a file's size before it is
read, nesting and alias expansion on the YAML event stream before any node
is built, the task count on the plain data before any task is validated,
a duration's range before any arithmetic on it. A breach is bad input
(exit code 2) with the place where it was found. Render-time limits
(output size, loop iterations, ...) belong to the expression layer and are
documented in docs/expressions.md.
"""

from __future__ import annotations

MAX_FLOW_BYTES = 1 << 20
"""Size of a flow file (all its documents), and of a flow source read from the store."""

MAX_YAML_NODES = 100_000
"""Values (scalars, mappings, sequences) in one YAML text, each alias counted
as the whole value it repeats: a few anchors cannot expand into millions."""

MAX_NESTING = 100
"""Depth of nested mappings and sequences in a flow (aliases expanded) and in
a JSON or YAML input value. A task nested in a flowable costs two levels
(its list and its mapping), so flowables nest about 45 deep."""

MAX_TASKS = 5_000
"""Tasks in one flow, every flowable's children included."""

MAX_INPUT_CHARS = 1 << 20
"""Length of one input value given as text (`--input NAME=VALUE`)."""

MAX_DURATION_DAYS = 36_500
"""Longest ISO-8601 duration (timeouts, Sleep, retry intervals, ...): 100 years."""
