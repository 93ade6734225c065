"""Keeps a process that runs for weeks from creeping up in resident memory (glibc only).

Frames of a few MB come and go from several threads, and every camera reconnection builds and
tears down a decoder.  With glibc's defaults that fragments the heap: the mmap threshold rises
to the size of the first big block freed, after which big blocks come from the heap and are
rarely returned, and each thread may get an arena of its own.  Measured with scripts/soak.py and
hanging camera reads: about 0.44 MB of RSS kept per reconnection with only a periodic trim,
about 0.14 MB with a fixed mmap threshold, so big blocks always go straight back to the system.

Python's cycle collector is the other half.  It runs when allocations outnumber deallocations,
and a kiosk loop in steady state frees what it allocates, so it may not run for an hour.  A
reference cycle that holds a frame buffer (a replaced camera object, an exception kept with its
traceback) then keeps its megabytes that long: the soak harness had one such cycle per camera
reconnection and showed RSS wandering by ±25 MB until it was found.  So the loop collects
cycles once a minute and after each reconnection, and `freeze_startup_objects` takes what
start-up built (modules, the model, the screen) out of the collector's sight, so that those
collections walk only what was made since (7 ms → under 0.1 ms, measured on x86).

On C libraries other than glibc the heap settings and the trim do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 256 * 1024
"""Blocks this big or bigger (frames, decoder buffers) are mapped and unmapped on their own."""
ARENA_MAX = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 -- present only in glibc (and musl lacks malloc_trim)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def tame_heap() -> bool:
    """Fix the mmap threshold and cap the arenas; call once at start, before threads start.

    Returns whether it took effect (False when the C library is not glibc)."""
    libc = _glibc()
    if libc is None:
        return False
    ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(libc.mallopt(_M_ARENA_MAX, ARENA_MAX))
    if not ok:
        log.debug("mallopt refused the heap settings")
    return ok


def freeze_startup_objects() -> None:
    """Once start-up is done: collect, then exempt everything alive now from later collections.

    A frozen object that later ends up in a cycle is never collected: a one-off cost bounded by
    what start-up built, against a full walk of it every minute for weeks."""
    gc.collect()
    gc.freeze()


def return_free_memory() -> None:
    """Free unreachable cycles and give freed heap pages back to the system (after a reconnection,
    and once a minute)."""
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
