"""APScheduler in the hub process only, so each alert fires once.

Jobs never hold the truth: they run the idempotent clock sweep (at start-up, every minute,
and at the next due moment read from the database) and build the handover at each shift
change. `misfire_grace_time=None` and `coalesce=True`: APScheduler's default silently drops
a job missed by more than a second.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.changes import Changes
from hub.clock_watch import Raised, next_due, sweep
from hub.dispatch import Dispatcher
from hub.handover import (
    last_shift_change,
    latest_handover,
    next_shift_change,
    record_handover,
)
from hub.settings import HubSettings
from messaging.kvmsg import KVMsg

log = logging.getLogger(__name__)

Commit = Callable[[str, Callable[[Changes], None]], Awaitable[list[KVMsg]]]
"""Commits a change the hub makes itself and publishes it (`HubServer.commit_system_change`)."""
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
SWEEP_EVERY = timedelta(minutes=1)


class ClockScheduler:
    def __init__(self, dispatcher: Dispatcher, commit: Commit, settings: HubSettings) -> None:
        self.dispatcher = dispatcher
        self.commit = commit
        self.settings = settings
        self.scheduler = AsyncIOScheduler(timezone=settings.tz, job_defaults=JOB_DEFAULTS)

    def start(self, *, paused: bool = False) -> None:
        """Call inside the running loop. The first sweep runs at once (catch-up)."""
        s = self.scheduler
        s.add_job(self.run_sweep, IntervalTrigger(seconds=SWEEP_EVERY.total_seconds()), id="sweep",
                  next_run_time=datetime.now(self.settings.tz))  # fmt: skip
        for at in self.settings.handover_times:
            s.add_job(
                self.run_handover,
                CronTrigger(hour=at.hour, minute=at.minute, timezone=self.settings.tz),
                id=f"handover-{at:%H%M}",
                kwargs={"label": f"{at:%H:%M} handover"},
            )
        self._catch_up_handover()
        s.start(paused=paused)

    def _catch_up_handover(self) -> None:
        """A shift change passed while the hub was down: build that handover now, once."""
        now = self.dispatcher.clock()
        due = last_shift_change(now, self.settings.handover_times, self.settings.tz)
        with Session(self.dispatcher.engine) as session:
            latest = latest_handover(session)
        if latest is not None and latest.at >= due:
            return
        label = f"{due.astimezone(self.settings.tz):%H:%M} handover"
        log.info("%s was missed while the hub was down: building it now", label)
        self.scheduler.add_job(
            self.run_handover, id="handover-catch-up", kwargs={"label": label},
            next_run_time=datetime.now(self.settings.tz),
        )  # fmt: skip

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def run_sweep(self) -> list[Raised]:
        raised: list[Raised] = []

        def apply(changes: Changes) -> None:
            raised[:] = sweep(changes)  # not extend: a rolled-back run may come first

        try:
            await self.commit("clock_sweep", apply)
        except IntegrityError:
            # another sweep (another hub on the same database) raised it first: nothing lost
            log.warning("clock sweep lost a race for an alert; the next sweep carries on")
            return []
        self.reschedule_wake(after_sweep=True)
        if raised:
            log.info("clock sweep raised %d alert(s): %s", len(raised), raised)
        return raised

    def reschedule_wake(self, *, after_sweep: bool = False) -> None:
        """Wake exactly at the next due moment, not up to a minute late."""
        now = self.dispatcher.clock()
        with Session(self.dispatcher.engine) as session:
            due = next_due(session, now)
        if due is None or not self.scheduler.running:
            return
        if after_sweep and due <= now:
            # A sweep just ran and something still looks due: never spin on it; the
            # minute sweep carries on.
            log.warning("clock sweep left something due at %s; waiting for the next sweep", due)
            return
        self.scheduler.add_job(
            self.run_sweep, DateTrigger(run_date=due), id="wake", replace_existing=True
        )

    async def run_handover(self, label: str) -> None:
        now = self.dispatcher.clock()
        ends = next_shift_change(now + timedelta(minutes=1), self.settings.handover_times,
                                 self.settings.tz)  # fmt: skip

        def apply(changes: Changes) -> None:
            record_handover(changes, label=label, shift_ends=ends)

        await self.commit("handover", apply)
        log.info("%s built", label)
