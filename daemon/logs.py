"""Logging set-up, done only here. Bodies, passwords and tokens are never logged."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "WARNING") -> None:
    """Plain one-line records on stderr at ``level``."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
