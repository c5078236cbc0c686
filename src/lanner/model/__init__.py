"""YAML to validated, frozen Flow objects; JSON Schema export."""
