"""Real components for tests: an HTTP sink on 127.0.0.1 and a TaskContext for task unit tests."""
