"""Run a generator in a child process, a few items ahead of its consumer.

An import parses and normalises JSON in pure Python while the store writes the previous batch;
threads would share one interpreter lock, so the parsing runs in a forked child process and its
batches come back pickled. The consumer sees the same items in the same order, and an exception
raised by the producer is raised again in the consumer. The child stops by itself when the
consumer goes away, even if the consumer was killed with SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")
_DONE = "__paperfeed_prefetch_done__"


class ProducerFailed(RuntimeError):
    """The producer raised an exception that could not be sent back as it was."""


def prefetch(make_items: Callable[..., Iterable[_T]], *args: Any, depth: int = 2) -> Iterator[_T]:
    """Yield the items of ``make_items(*args)``, produced up to ``depth`` ahead in a child process.

    ``make_items`` and ``args`` must be picklable (a module-level function and plain values),
    and so must the items.
    """
    context = multiprocessing.get_context("fork")
    buffer: Any = context.Queue(maxsize=depth)
    child = context.Process(
        target=_produce,
        args=(make_items, args, buffer, os.getpid()),
        name="paperfeed-prefetch",
        daemon=True,
    )
    child.start()
    try:
        while True:
            try:
                kind, payload = buffer.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    raise ProducerFailed(
                        f"the reader process died (exit code {child.exitcode})"
                    ) from None
                continue
            if kind == _DONE:
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        buffer.close()
        buffer.cancel_join_thread()


def _produce(
    make_items: Callable[..., Iterable[Any]], args: tuple[Any, ...], buffer: Any, parent: int
) -> None:
    # Without this, a child whose consumer was killed would wait forever at exit for its
    # queue to drain into a pipe nobody reads.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:
        for item in make_items(*args):
            if not _put(buffer, ("item", item), parent):
                return
        _put(buffer, (_DONE, None), parent)
    except Exception as error:
        try:
            _put(buffer, ("error", error), parent)
        except Exception:  # the error itself does not pickle: send its text
            _put(buffer, ("error", ProducerFailed(f"{type(error).__name__}: {error}")), parent)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def _put(buffer: Any, item: object, parent: int) -> bool:
    """Put ``item`` while the consumer lives; False once it is gone."""
    while os.getppid() == parent:
        try:
            buffer.put(item, timeout=0.5)
        except queue.Full:
            continue
        return True
    return False
