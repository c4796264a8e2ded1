"""The production server stack: uvloop and httptools (uvicorn's ``standard`` extras) where
they are installed, the pure-Python asyncio loop and h11 otherwise."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when installed; None means asyncio's own."""
    if not _installed("uvloop"):
        return None
    import uvloop

    return uvloop.new_event_loop


def http_implementation() -> str:
    """uvicorn's ``http`` setting: ``httptools`` when installed, else ``h11``."""
    return "httptools" if _installed("httptools") else "h11"


def describe(http: object) -> str:
    """What serves requests, for the start-up log: ``loop=uvloop http=httptools``."""
    loop = type(asyncio.get_running_loop()).__module__.partition(".")[0]
    return f"loop={'uvloop' if loop == 'uvloop' else 'asyncio'} http={http}"
