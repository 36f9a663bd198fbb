"""``wandb.errors``: the exception classes scripts and integrations catch, and ``term`` (the
terminal helpers integrations import as ``wandb.errors.term``)."""

from .._errors import CommError, ConfigError, Error, UsageError
from . import term

#: W&B's names of the same errors.
AuthenticationError = CommError
UnsupportedError = UsageError

__all__ = ["Error", "CommError", "ConfigError", "UsageError", "AuthenticationError",
           "UnsupportedError", "term"]
