"""The production server stack, uvicorn's ``standard`` extras: httptools where it is
installed (else h11), and uvloop when installed unless ``[web].event_loop = "asyncio"`` (then,
or without uvloop, asyncio's own loop)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when chosen and installed; None means asyncio's own."""
    if choice != "uvloop" or not _installed("uvloop"):
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
