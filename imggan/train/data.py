"""Training batches: a resumable iterator helper for recipes and the trainer's prefetching stream.

Exact resume needs the data sampler's position. A recipe's ``make_batches`` may return a
:class:`StatefulBatches` (or any iterator with JSON-able ``state_dict()``/``load_state_dict()``); its random
generators are then saved in checkpoints and restored. Any other iterator is resumed by re-creating it with
the same seed and skipping the batches already consumed -- exact too, only slower for long runs.

``make_batches`` must draw from its own generators seeded by ``seed`` (never torch's global generator): the
stream may run it in a background thread (``prefetch``) so decoding and cropping overlap the device's work.

Example:
    >>> import numpy as np, torch
    >>> from imggan.train.data import StatefulBatches
    >>> rng = np.random.default_rng(0)
    >>> it = StatefulBatches(lambda: {"target": torch.from_numpy(rng.normal(size=(2, 2)))}, [rng])
    >>> state = it.state_dict(); a = next(it)["target"]
    >>> it.load_state_dict(state); bool(torch.equal(a, next(it)["target"]))
    True
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from imggan.train.rng import generator_state, set_generator_state

Batch = dict[str, Any]


class StatefulBatches:
    """An endless iterator ``draw() -> batch`` whose random generators can be saved and restored.

    Args:
        draw: makes one CPU batch, drawing only from ``generators``.
        generators: the ``numpy.random.Generator`` / ``random.Random`` / ``torch.Generator`` objects
            ``draw`` uses (e.g. ``[crop_sampler.rng]``).
    """

    def __init__(self, draw: Callable[[], Batch], generators: Sequence[Any]) -> None:
        self.draw = draw
        self.generators = list(generators)

    def __iter__(self) -> StatefulBatches:
        return self

    def __next__(self) -> Batch:
        return self.draw()

    def state_dict(self) -> dict[str, Any]:
        """JSON-able states of the generators."""
        return {"generators": [generator_state(g) for g in self.generators]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
        for gen, gen_state in zip(self.generators, state["generators"], strict=True):
            set_generator_state(gen, gen_state)


def _pin(batch: Batch) -> Batch:
    return {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


class BatchStream:
    """The trainer's view of ``recipe.make_batches``: counted, resumable, optionally prefetched.

    Args:
        make: ``recipe.make_batches``.
        config: the training config.
        seed: the per-rank data seed.
        prefetch: batches drawn ahead in a background thread (0: draw on demand).
        pin: pin prefetched tensors (CUDA) so host-to-device copies are asynchronous.
    """

    def __init__(
        self,
        make: Callable[[dict[str, Any], int], Iterator[Batch]],
        config: dict[str, Any],
        seed: int,
        prefetch: int = 0,
        pin: bool = False,
    ) -> None:
        self.make, self.config, self.seed = make, config, seed
        self.prefetch, self.pin = prefetch, pin
        self.consumed = 0
        self.state: dict[str, Any] | None = None
        self._start(None)

    def _start(self, state: dict[str, Any] | None) -> None:
        self.iterator = iter(self.make(self.config, self.seed))
        self.stateful = hasattr(self.iterator, "state_dict") and hasattr(self.iterator, "load_state_dict")
        if state is not None:
            if self.stateful and state.get("iterator") is not None:
                self.iterator.load_state_dict(state["iterator"])
            else:
                for _ in range(int(state["consumed"])):
                    next(self.iterator)
            self.consumed = int(state["consumed"])
        self.state = self._capture()
        self._queue: queue.Queue | None = None
        self._stop = threading.Event()
        if self.prefetch > 0:
            self._queue = queue.Queue(maxsize=self.prefetch)
            self._thread = threading.Thread(target=self._fill, name="imggan-batches", daemon=True)
            self._thread.start()

    def _capture(self) -> dict[str, Any] | None:
        return self.iterator.state_dict() if self.stateful else None

    def _draw(self) -> tuple[Batch, dict[str, Any] | None]:
        batch = next(self.iterator)
        return (_pin(batch) if self.pin else batch), self._capture()

    def _fill(self) -> None:
        assert self._queue is not None
        while not self._stop.is_set():
            try:
                item: Any = self._draw()
            except BaseException as exc:  # handed to the consumer, which re-raises it
                item = exc
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, BaseException):
                return

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> Batch:
        if self._queue is None:
            batch, state = self._draw()
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            batch, state = item
        self.consumed += 1
        self.state = state
        return batch

    def state_dict(self) -> dict[str, Any]:
        """Position after the last batch handed out (prefetched batches not counted)."""
        return {"consumed": self.consumed, "iterator": self.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Re-create the sampler at the saved position (stopping any prefetching first)."""
        self.close()
        self._start(state)

    def close(self) -> None:
        """Stop the prefetch thread."""
        self._stop.set()
        if self._queue is not None:
            while self._thread.is_alive():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    self._thread.join(timeout=0.05)
