"""One inference worker for every prediction of the process: the requests waiting at that moment go
through the model as one batch.

A class of fifty draws at once; each live update needs one forward pass of a 28x28 image, for
which torch's per-call overhead costs more than the arithmetic. One worker thread takes whatever
is waiting, stacks the inputs that share a model, runs them as one batch on one thread, and hands
every caller its own row. Alone, a request waits for nobody; under load, a batch of ten costs
little more than one. Models are in eval mode, so a row is the same whatever else is in its batch.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..models import probabilities

MAX_BATCH = 64


@dataclass
class _Request:
    model: nn.Module
    x: torch.Tensor  # (1, 1, 28, 28)
    done: Callable[[torch.Tensor | None, BaseException | None], None]  # called in the worker thread


class InferenceWorker:
    """`probabilities(model, x)` from any thread; the forward passes all run in one worker thread."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = self.requests = 0  # for benchmarks: requests / batches is the mean batch size

    def probabilities(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The (classes,) probabilities of one input (1, 1, 28, 28) under `model`; blocks this thread."""
        finished = threading.Event()
        outcome: list = []

        def done(result, error) -> None:
            outcome.extend((result, error))
            finished.set()

        self._submit(_Request(model, x, done))
        finished.wait()
        if outcome[1] is not None:
            raise outcome[1]
        return outcome[0]

    async def probabilities_async(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The same for a coroutine: the event loop waits without a thread of its own."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(result, error) -> None:
            if not future.done():
                future.set_exception(error) if error is not None else future.set_result(result)

        self._submit(_Request(model, x, lambda result, error: loop.call_soon_threadsafe(settle, result, error)))
        return await future

    def _submit(self, request: _Request) -> None:
        self._ensure_started()
        self._queue.put(request)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="inference", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        torch.set_num_threads(1)  # tiny batches: one thread beats OpenMP's start-up, and leaves a core free
        while True:
            waiting = [self._queue.get()]
            while len(waiting) < self.max_batch:
                try:
                    waiting.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            by_model: dict[int, list[_Request]] = {}
            for request in waiting:
                by_model.setdefault(id(request.model), []).append(request)
            for group in by_model.values():
                self._forward(group)

    def _forward(self, group: list[_Request]) -> None:
        model = group[0].model
        self.batches += 1
        self.requests += len(group)
        try:
            with torch.inference_mode():
                rows = probabilities(model, model(torch.cat([r.x for r in group]))).float()
        except Exception as exc:  # handed to every caller of the batch; the worker keeps serving
            for request in group:
                request.done(None, exc)
            return
        for request, row in zip(group, rows, strict=True):
            request.done(row, None)


WORKER = InferenceWorker()  # the process's one worker
