"""`hubdesk serve`: set up logging, check the settings, seed the demo if asked, serve."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from datetime import datetime

import typer
import zmq

from hub.clock import Clock, ManualClock, system_clock
from hub.db import DatabaseUrlError, make_engine
from hub.logs import configure_logging
from hub.migrate import upgrade
from hub.server import HubServer, InsecureBindError
from hub.settings import HubSettings
from messaging.envelope import CommandEnvelope
from messaging.security import SecurityError

log = logging.getLogger(__name__)

DEMO_DESK = "demo-feed"


def run_hub(
    settings: HubSettings,
    *,
    demo_seed: int | None = None,
    demo_feed: float = 0.0,
    fixed_now: datetime | None = None,
    parent: int | None = None,
) -> None:
    configure_logging(settings.log_file)
    clock: Clock = ManualClock(fixed_now) if fixed_now is not None else system_clock
    try:
        engine = make_engine(settings.db_url)
        upgrade(engine)
        if demo_seed is not None:
            _seed_if_empty(engine, demo_seed, clock())
        server = HubServer(settings, engine=engine, clock=clock)
    except (DatabaseUrlError, InsecureBindError, SecurityError) as exc:
        _die(str(exc))
    except Exception as exc:
        log.exception("hub could not start")
        _die(f"The hub could not open its database: {exc}")
    typer.echo(
        f"Hub listening on {settings.bind}:{settings.port}-{settings.port + 3}; "
        f"logging to {settings.log_file}. Ctrl+C stops it."
    )
    if server.server_keys is not None:
        typer.echo(
            f"CURVE on: {server.allowed_desks} desk key(s) allowed from {settings.keys_dir}; "
            f"`kill -HUP {os.getpid()}` reloads the allow-list."
        )
    try:
        asyncio.run(_serve(server, demo_feed, demo_seed or 0, parent))
    except SecurityError as exc:  # the allow-list changed between the check and the start
        _die(str(exc))
    except zmq.ZMQError as exc:
        log.error("hub could not bind: %s", exc)
        _die(
            f"Could not listen on {settings.bind}:{settings.port}..{settings.port + 3}: {exc}. "
            "Is another hub running? Try --port."
        )


def _die(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _seed_if_empty(engine: object, seed: int, now: datetime) -> None:
    from sqlmodel import Session, select

    from hub.demo_data import seed_demo
    from models.tables import Staff

    with Session(engine) as session:  # type: ignore[arg-type]
        if session.exec(select(Staff)).first() is not None:  # already seeded (teams always are)
            return
    summary = seed_demo(engine, seed=seed, now=now)  # type: ignore[arg-type]
    log.info("demo data seeded: %s", summary)


async def _serve(server: HubServer, demo_feed: float, seed: int, parent: int | None) -> None:
    tasks: list[asyncio.Task[None]] = []
    if demo_feed > 0:
        tasks.append(asyncio.create_task(_demo_feed(server, demo_feed, seed)))
    if parent is not None:
        tasks.append(asyncio.create_task(_stop_with_parent(server, parent)))
    try:
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()


async def _stop_with_parent(server: HubServer, parent: int) -> None:
    """A hub started for one desk (the demo) stops when that process goes, however it went."""
    while True:
        await asyncio.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            log.info("parent process %d is gone: stopping", parent)
            server.request_stop()
            return
        except PermissionError:  # alive, owned by someone else
            continue


async def _demo_feed(server: HubServer, every: float, seed: int) -> None:
    """New referrals keep arriving, as they do on a real shift."""
    from hub.demo_data import demo_referral_args

    rng = random.Random(seed + 1)
    await server.started.wait()
    while True:
        await asyncio.sleep(every * rng.uniform(0.6, 1.4))
        args = demo_referral_args(rng, server.clock())
        envelope = CommandEnvelope.new("create_referral", args, actor=1, desk=DEMO_DESK)
        try:
            reply = await server._on_command(envelope)  # noqa: SLF001 - the hub feeding itself
        except Exception:
            log.exception("demo feed failed")
            continue
        if not reply.ok:
            log.warning("demo referral refused: %s", reply.message)
