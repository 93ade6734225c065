"""The TFLite interpreter: which runtime, how many threads.  The only module that imports a TFLite runtime.

ai-edge-litert is tflite-runtime's maintained successor, with the same Interpreter API (numpy 2,
about 10x faster here on MoveNet); "auto" takes it when installed, else tflite-runtime, else
TensorFlow's own.  The interpreter is built from the model's bytes (`model_content`), so that the
caller may hand it a model whose graph it extended in memory (kiosk.model.graph).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from kiosk.core.errors import ModelError
from kiosk.settings.config import Runtime

RUNTIME_MODULES = {
    Runtime.AI_EDGE_LITERT: "ai_edge_litert.interpreter",
    Runtime.TFLITE_RUNTIME: "tflite_runtime.interpreter",
    Runtime.TENSORFLOW: "tensorflow.lite",
}
"""Tried in this order for runtime "auto"."""

Interpreter = Any
"""A TFLite Interpreter of whichever runtime (they share one API and ship no type hints)."""


def installed_runtimes(runtime: Runtime) -> list[tuple[Runtime, ModuleType]]:
    """The runtimes that import, in the order "auto" tries them (just `runtime` when one is named)."""
    names = list(RUNTIME_MODULES) if runtime is Runtime.AUTO else [runtime]
    found = []
    for name in names:
        try:
            found.append((name, importlib.import_module(RUNTIME_MODULES[name])))
        except ImportError:
            continue
    if not found:
        wanted = "ai-edge-litert, tflite-runtime or tensorflow" if runtime is Runtime.AUTO else runtime.value
        raise ModelError(f"no TFLite runtime installed ({wanted}); install one, e.g. pip install ai-edge-litert")
    return found


def build_interpreter(module: ModuleType, name: Runtime, model: bytes, label: str, threads: int) -> Interpreter:
    """An interpreter for the model bytes, tensors allocated; `label` names the model in errors."""
    try:
        with runtime_chatter_hidden():
            interpreter = module.Interpreter(model_content=model, num_threads=threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"model file {label} cannot be loaded by {name.value}: {error}") from error
    return interpreter


@contextlib.contextmanager
def runtime_chatter_hidden() -> Iterator[None]:
    """The TFLite runtimes print "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight
    to the process's stderr (file descriptor 2) from C++, with no switch to turn it off; while an
    interpreter is built, that descriptor goes to /dev/null, unless the log level is debug.  Its
    errors still arrive, as the exception the runtime raises."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no descriptor 2, or none to spare: say it, then
        yield
        return
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    runtime: Runtime
    threads: int
    tried: tuple[tuple[str, int, float], ...]
    """Every (runtime, threads, median invoke ms) measured at start; empty when nothing was measured."""
    invoke_ms: float | None = None
    """The chosen interpreter's median invoke time at start (None when nothing was measured)."""


def choose_interpreter(
    model: bytes, label: str, runtime: Runtime, threads: int, invokes: int = 12,
    candidates: tuple[int, ...] | None = None, measure: bool = False,
) -> tuple[Interpreter, RuntimeChoice]:
    """Build the interpreter; with threads 0, or runtime "auto" and two runtimes installed, measure
    the candidates for a moment and keep the fastest (`measure` times even a single candidate).

    The best thread count depends on the runtime and the board (tflite-runtime 2.14 got slower
    with more threads on x86, ai-edge-litert faster), so it is measured rather than guessed.
    The candidates leave one core free: capture, scaling and drawing run beside the model, and
    on a 2-core machine the whole loop ran 150 fps with one model thread against 130 with two,
    although a bare invoke is faster with two (README, "Performance").
    """
    runtimes = installed_runtimes(runtime)[:2]
    cores = os.cpu_count() or 1
    thread_options = [threads] if threads else sorted(candidates or {n for n in (1, 2, 3) if n <= max(1, cores - 1)})
    if len(runtimes) == 1 and len(thread_options) == 1 and not measure:
        name, module = runtimes[0]
        interpreter = build_interpreter(module, name, model, label, thread_options[0])
        return interpreter, RuntimeChoice(name, thread_options[0], ())
    best: tuple[float, Interpreter, Runtime, int] | None = None
    tried = []
    for name, module in runtimes:
        for count in thread_options:
            interpreter = build_interpreter(module, name, model, label, count)
            median_ms = median_invoke_ms(interpreter, invokes)
            tried.append((name.value, count, round(median_ms, 2)))
            if best is None or median_ms < best[0]:
                best = (median_ms, interpreter, name, count)
    assert best is not None
    best_ms, interpreter, name, count = best
    return interpreter, RuntimeChoice(name, count, tuple(tried), round(best_ms, 3))


def median_invoke_ms(interpreter: Interpreter, invokes: int) -> float:
    """The median of `invokes` timed invokes on a blank input, after three untimed ones."""
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    for _ in range(3):
        interpreter.invoke()
    times = []
    for _ in range(invokes):
        started = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))
