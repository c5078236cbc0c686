"""The `lanner` command line."""

# Every SIGINT and SIGTERM `lanner run` received, from the entry point's import
# to its exit: `lanner.cli.launch` notes them before anything else is loaded,
# `lanner.cli.interrupts` answers them. Kept here, in the package Python loads
# before the entry point, so that neither module imports the other.
noted_signals: list[int] = []
