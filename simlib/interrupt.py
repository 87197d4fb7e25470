"""Ctrl-C and SIGTERM end a run cleanly: both raise an exception, so every clean-up runs.

Python turns Ctrl-C (SIGINT) into KeyboardInterrupt, but SIGTERM (what `kill`, `timeout`,
CI runners and batch schedulers send) kills the process on the spot, leaving scratch files
and half-built outputs behind. Inside `sigterm_as_interrupt()` SIGTERM raises `Terminated`,
a KeyboardInterrupt, so the same `finally` blocks run for both. `signals_held()` defers
both signals over a few steps that must not be split (swapping a finished report set in).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises `Terminated` (only the main thread can take signals)."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then take effect."""
    if not _main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
