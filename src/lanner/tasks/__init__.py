"""Task types (plugins), registered by their Kestra type name."""
