"""The I/O shell around the pure engine: executor loop, workers, timers."""
