"""What several tabs share: following a job the runner runs (`follow`).

A streaming handler renders each snapshot `follow` yields; it keeps its own `finally` that sets the job's stop
flag when the job has not finished, so a page that goes away leaves no job running with nobody watching.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ..training.runner import Job, Snapshot


async def follow(job: Job, every: float, each_tick: bool = False, wait_first: bool = False) -> AsyncIterator[Snapshot]:
    """The job's snapshots: one now (`wait_first`: after `every`, for a page that already shows the job as it
    started), then one whenever it changed (looked at every `every` seconds; with `each_tick`, one every time,
    for a page whose own clock moves between reports), the last one finished."""
    version = None
    if wait_first:
        await asyncio.sleep(every)
    while True:
        snap = job.snapshot()
        if each_tick or snap.version != version or snap.finished:
            version = snap.version
            yield snap
        if snap.finished:
            return
        await asyncio.sleep(every)
