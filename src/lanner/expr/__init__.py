"""Lanner's expression language: Kestra's Pebble templates over Jinja2's sandbox.

``ExpressionEngine`` renders ``{{ ... }}`` templates with Pebble's grammar and
semantics (``docs/expressions.md`` lists every difference from Jinja2 and
what Lanner decided). ``Scope`` is what a render sees; ``is_truthy`` is
Kestra's rule for conditions; ``env_secrets`` and ``SecretMasker`` resolve
and hide secrets.
"""

from lanner.errors import RenderError, SandboxError
from lanner.expr.engine import ExpressionEngine
from lanner.expr.scope import Scope, is_truthy
from lanner.expr.secrets import SecretMasker, env_secrets

__all__ = [
    "ExpressionEngine",
    "RenderError",
    "SandboxError",
    "Scope",
    "SecretMasker",
    "env_secrets",
    "is_truthy",
]
