"""A guard that pauses Python's cyclic garbage collector while a rule counts or a file is parsed.

A large election holds hundreds of thousands of live objects (votes, ballots), and a count
allocates many small ones (utilities, payments, certificate entries); each allocation burst
makes the collector re-scan the whole heap, which can double the time of a count. The rules
create no reference cycles, so reference counting frees everything they drop; the collector
is switched back on (if it was on) when the count ends, whatever happens.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a rule so that it runs under :func:`paused_gc`."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_gc():
            return fn(*args, **kwargs)

    return wrapper
