"""The `lanner` command line."""

# Every SIGINT and SIGTERM `lanner run` received, from the entry point's import
# to its exit: `lanner.cli.launch` notes them before anything else is loaded,
# `lanner.cli.interrupts` answers them. Kept here, in the package Python loads
# before the entry point, so that neither module imports the other.
noted_signals: list[int] = []

# Whether `lanner.cli.launch` paused the cyclic garbage collector for the start-up of
# `lanner run` (docs/performance.md): `run_flow` resumes it once the runtime started.
gc_paused: list[bool] = []
