"""Group commit: items that arrive one by one (webhooks) share transactions.

Each caller submits one item and waits; a single writer task takes whatever is queued (up to a batch size, or
what arrives within a few milliseconds), ingests it in one transaction and answers every caller only after
that transaction has committed. Many concurrent requests then cost one fsync, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from core.ingest import IngestResult, Pipeline, Prepared, Submission

log = logging.getLogger(__name__)


class IngestBatcher:
    """Collects submissions from many callers into shared, committed batches."""

    def __init__(
        self, engine: AsyncEngine, pipeline: Pipeline, max_items: int = 500, max_wait_ms: float = 2.0
    ) -> None:
        self.engine = engine
        self.pipeline = pipeline
        self.max_items = max_items
        self.max_wait = max_wait_ms / 1000
        self._queue: asyncio.Queue[tuple[Prepared, asyncio.Future[IngestResult]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, sub: Submission) -> IngestResult:
        """Ingest one item; returns once it is committed (or raises if the commit failed)."""
        # Mapping and normalizing here, in the caller, overlaps that CPU work with the writer's database I/O.
        prepared = self.pipeline.prepare(sub)
        fut: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((prepared, fut))
        return await fut

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="ingest-batcher")

    async def stop(self) -> None:
        """Finish what is queued, then stop the writer task."""
        if self._task is None:
            return
        await self._queue.put(None)  # type: ignore[arg-type]
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = asyncio.get_running_loop().time() + self.max_wait
            while len(batch) < self.max_items:
                timeout = deadline - asyncio.get_running_loop().time()
                try:
                    nxt = (
                        self._queue.get_nowait()
                        if timeout <= 0
                        else await asyncio.wait_for(self._queue.get(), timeout)
                    )
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Prepared, asyncio.Future[IngestResult]]]) -> None:
        try:
            async with self.engine.begin() as conn:
                results = await self.pipeline.write(conn, [p for p, _ in batch])
        except Exception as e:
            if len(batch) > 1:  # one poisonous item must not cost the others: retry each on its own
                log.warning("ingest batch of %d failed (%s); retrying item by item", len(batch), type(e).__name__)
                for one in batch:
                    await self._commit([one])
                return
            log.error("ingest transaction failed; item not acknowledged: %s", e)
            if not batch[0][1].done():
                batch[0][1].set_exception(e)
            return
        for (_, fut), result in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(result)
