"""``wandb.errors.term``: print a line to the terminal as the client does (``termlog``,
``termwarn``, ``termerror``; silent under $TRACKLINE_SILENT or $WANDB_SILENT)."""

from .._errors import termerror, termlog, termwarn

__all__ = ["termlog", "termwarn", "termerror"]
