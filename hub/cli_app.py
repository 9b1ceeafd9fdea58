"""The `hubdesk` commands (typer). `hub.cli` is the entry point and holds the options shared
with the desk's quick path; heavy modules load inside each command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli import (
    ACTOR,
    DESK_ID,
    DESK_KEY,
    DESK_LOG,
    HOST,
    HUB_KEY,
    PORT,
    PORT_MAX,
    PORT_MIN,
    Opt,
    check_connectable,
    curve_keys,
    default_desk_id,
    fail,
    open_desk,
)
from hub.keys_cli import keys_app

app = typer.Typer(
    help="Hub Desk: live referral board and joint-visit coordination for a crisis hub.",
    no_args_is_help=True,
    add_completion=False,
)
referral_app = typer.Typer(help="Work with referrals on a running hub.", no_args_is_help=True)
app.add_typer(referral_app, name="referral")
app.add_typer(keys_app, name="keys")
staff_app = typer.Typer(help="Add and list the hub's staff.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
shift_app = typer.Typer(help="Put staff on shift.", no_args_is_help=True)
app.add_typer(shift_app, name="shift")


def option(opt: Opt) -> Any:
    """The typer option for one of `hub.cli`'s shared options."""
    return typer.Option(opt.flag, help=opt.help, envvar=opt.envvar, min=opt.min, max=opt.max)


HostOpt = Annotated[str, option(HOST)]
PortOpt = Annotated[int, option(PORT)]
ActorOpt = Annotated[int, option(ACTOR)]
DeskOpt = Annotated[str, option(DESK_ID)]
DeskLogOpt = Annotated[Path | None, option(DESK_LOG)]
HubKeyOpt = Annotated[Path | None, option(HUB_KEY)]
DeskKeyOpt = Annotated[Path | None, option(DESK_KEY)]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: SQLite in your data folder).", envvar="HUBDESK_DB_URL"
    ),
]


def _settings(**overrides: Any) -> Any:
    from pydantic import ValidationError as SettingsError

    from hub.settings import HubSettings

    try:
        return HubSettings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        first = exc.errors()[0]
        raise fail(f"Bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@app.command()
def init(
    db: DbOpt = None,
    admin: Annotated[
        str | None, typer.Option(help="Name of the hub's first administrator (a new hub only).")
    ] = None,
) -> None:
    """Create or upgrade the database schema; with --admin, add the first administrator."""
    from hub.bootstrap import create_first_admin, staff_count
    from hub.db import DatabaseUrlError, make_engine
    from hub.migrate import upgrade
    from models.errors import DomainError

    settings = _settings(db_url=db)
    try:
        engine = make_engine(settings.db_url)
        upgrade(engine)
    except DatabaseUrlError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # a database that cannot be reached or opened
        raise fail(f"Could not prepare the database: {exc}") from None
    typer.echo(f"Database ready: {engine.url.render_as_string(hide_password=True)}")
    if admin is not None:
        try:
            staff_id = create_first_admin(engine, admin)
        except DomainError as exc:
            raise fail(exc.message) from None
        typer.echo(
            f"{admin} is the hub's administrator: staff id {staff_id} (use --as {staff_id})."
        )
    elif not staff_count(engine):
        typer.echo(
            'No staff yet: run `hubdesk init --admin "Your Name"` to add the first administrator.'
        )


@app.command()
def serve(
    db: DbOpt = None,
    bind: Annotated[
        str | None, typer.Option(help="Address to listen on.", envvar="HUBDESK_BIND")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Base port P (uses P..P+3).", envvar="HUBDESK_PORT", min=PORT_MIN, max=PORT_MAX
        ),
    ] = None,
    insecure: Annotated[
        bool, typer.Option(help="Allow a non-loopback bind without encryption (trusted LAN only).")
    ] = False,
    log_file: Annotated[Path | None, typer.Option(help="Where the hub logs.")] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="Keys folder from `hubdesk keys init`: CURVE, and only allowed desks get in.",
            show_default=False,
        ),
    ] = None,
    demo_seed: Annotated[int | None, typer.Option(hidden=True)] = None,
    demo_feed: Annotated[float, typer.Option(hidden=True)] = 0.0,
    parent: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when this process id is gone.")
    ] = None,
    fixed_now: Annotated[
        str | None, typer.Option(hidden=True, help="Testing only: freeze the hub's clock.")
    ] = None,
) -> None:
    """Run the hub server: owns the database and keeps every desk in step."""
    from hub.runner import run_hub

    frozen = None
    if fixed_now is not None:
        from datetime import datetime

        try:
            frozen = datetime.fromisoformat(fixed_now)
        except ValueError:
            raise fail(f"--fixed-now {fixed_now!r} is not an ISO time") from None
        if frozen.tzinfo is None:
            raise fail("--fixed-now needs a time zone, e.g. 2026-11-23T10:00:00+00:00")
    settings = _settings(
        db_url=db,
        bind=bind,
        port=port,
        log_file=log_file,
        insecure=insecure or None,
        keys_dir=keys,
    )
    run_hub(settings, demo_seed=demo_seed, demo_feed=demo_feed, fixed_now=frozen, parent=parent)


@app.command()
def desk(
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
    desk_id: DeskOpt = DESK_ID.default,
    log_file: DeskLogOpt = DESK_LOG.default,
    hub_key: HubKeyOpt = HUB_KEY.default,
    desk_key: DeskKeyOpt = DESK_KEY.default,
) -> None:
    """Open a desk: the live referral board of a running hub."""
    open_desk(
        host=host,
        port=port,
        actor=actor,
        desk_id=desk_id,
        log_file=log_file,
        hub_key=hub_key,
        desk_key=desk_key,
    )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed for the synthetic data (repeatable).")] = 7,
    port: Annotated[
        int | None,
        typer.Option(help="Base port (default: 5570, or a free one).", min=PORT_MIN, max=PORT_MAX),
    ] = None,
    every: Annotated[float, typer.Option(help="Seconds between new demo referrals.")] = 8.0,
) -> None:
    """Start a hub with realistic synthetic data and open a desk on it."""
    from hub.demo import run_demo

    run_demo(seed=seed, port=port, every=every)


@referral_app.command("add")
def referral_add(
    name: Annotated[str, typer.Option(help="The person's name.")],
    source: Annotated[
        str,
        typer.Option(
            help="gp, ambulance, emergency_department, hospital_ward, care_home, nhs_111, "
            "family_or_self or other."
        ),
    ],
    need: Annotated[
        list[str],
        typer.Option(help="A team needed (CRT, NUR, THY, MH, REA); repeat for a joint visit."),
    ],
    nhs: Annotated[str | None, typer.Option(help="NHS number (optional).")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    address: Annotated[str, typer.Option()] = "",
    postcode: Annotated[str, typer.Option()] = "",
    phone: Annotated[str, typer.Option()] = "",
    reason: Annotated[str, typer.Option(help="Why they were referred.")] = "",
    referrer: Annotated[str, typer.Option(help="Who referred them.")] = "",
    priority: Annotated[str, typer.Option(help="crisis, urgent or routine.")] = "crisis",
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
    hub_key: HubKeyOpt = None,
    desk_key: DeskKeyOpt = None,
) -> None:
    """Log a new referral on a running hub."""
    if dob:
        try:
            date.fromisoformat(dob)
        except ValueError:
            raise fail(f"--dob {dob!r} is not a date like 1941-03-07") from None
    args = {
        "patient": {
            "name": name,
            "nhs_number": nhs,
            "date_of_birth": dob,
            "address": address,
            "postcode": postcode,
            "phone": phone,
        },
        "source": source,
        "referrer_name": referrer,
        "reason": reason,
        "needs": need,
        "priority": priority,
    }
    result = _call(host, port, actor, "create_referral", args, hub_key=hub_key, desk_key=desk_key)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"Referral {result['referral_id']} logged for {name}.")


@referral_app.command("list")
def referral_list(
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
    include_closed: Annotated[
        bool, typer.Option("--all", help="Include closed referrals.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    hub_key: HubKeyOpt = None,
    desk_key: DeskKeyOpt = None,
) -> None:
    """List referrals on a running hub (open ones, most recent first)."""
    from hub.report import print_referrals

    result = _call(
        host,
        port,
        actor,
        "list_referrals",
        {"open_only": not include_closed, "limit": limit},
        hub_key=hub_key,
        desk_key=desk_key,
    )
    if as_json:
        typer.echo(json.dumps(result["referrals"], indent=2))
    else:
        print_referrals(result["referrals"])


@app.command()
def handover(
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
    now: Annotated[
        bool, typer.Option("--now", help="Build one now instead of the latest.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    hub_key: HubKeyOpt = None,
    desk_key: DeskKeyOpt = None,
) -> None:
    """Print the latest shift handover (or one built now) from a running hub."""
    from hub.report import print_handover

    body = _call(
        host, port, actor, "get_handover", {"build_now": now}, hub_key=hub_key, desk_key=desk_key
    )
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        print_handover(body)


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="Their name.")],
    team: Annotated[str, typer.Option(help="CRT, NUR, THY, MH or REA.")],
    role: Annotated[
        str, typer.Option(help="coordinator, clinician, liaison, supervisor or admin.")
    ] = "clinician",
    patch: Annotated[str, typer.Option(help='Postcode districts they cover, e.g. "LE1 LE2".')] = "",
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
) -> None:
    """Add a member of staff (administrators only)."""
    args = {"name": name, "team": team.upper(), "role": role, "patch": patch}
    result = _call(host, port, actor, "add_staff", args)
    typer.echo(f"{name} added: staff id {result['staff_id']}.")


@staff_app.command("list")
def staff_list(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hub's staff with their status and shift."""
    from hub.report import print_staff

    args = {"team": team.upper()} if team else {}
    staff = _call(host, port, actor, "list_staff", args)["staff"]
    if as_json:
        typer.echo(json.dumps(staff, indent=2))
    else:
        print_staff(staff)


@shift_app.command("add")
def shift_add(
    staff: Annotated[int, typer.Option("--staff", help="Their staff id.")],
    start: Annotated[str, typer.Option(help="Start time, HH:MM (hub time).")],
    end: Annotated[str, typer.Option(help="End time, HH:MM; earlier than start means overnight.")],
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    tz: Annotated[
        str, typer.Option(help="Time zone of the times.", envvar="HUBDESK_TIMEZONE")
    ] = "Europe/London",
    host: HostOpt = HOST.default,
    port: PortOpt = PORT.default,
    actor: ActorOpt = ACTOR.default,
) -> None:
    """Put someone on shift (coordinators and administrators)."""
    from hub.shifts import ShiftTimeError, shift_times

    try:
        starts, ends = shift_times(start, end, day, tz)
    except ShiftTimeError as exc:
        raise fail(str(exc)) from None
    args = {"staff_id": staff, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
    result = _call(host, port, actor, "add_shift", args)
    typer.echo(f"Shift {result['shift_id']} added: {starts:%a %d %b %H:%M} to {ends:%H:%M %Z}.")


def _call(
    host: str,
    port: int,
    actor: int,
    command: str,
    args: dict[str, Any],
    *,
    hub_key: Path | None = None,
    desk_key: Path | None = None,
) -> dict[str, Any]:
    from messaging.command_client import CommandClient, CommandRefused, HubUnavailable

    # Commands without --hub-key/--desk-key options still follow the environment.
    env_hub, env_desk = os.environ.get("HUBDESK_HUB_KEY"), os.environ.get("HUBDESK_DESK_KEY")
    hub_key = hub_key or (Path(env_hub) if env_hub else None)
    desk_key = desk_key or (Path(env_desk) if env_desk else None)
    curve = curve_keys(hub_key, desk_key)
    # Retry warnings belong in a log, not before the one-line message below.
    logging.getLogger("messaging").addHandler(logging.NullHandler())

    import zmq

    from messaging.protocol import FrameError

    desk = default_desk_id("cli")
    check_connectable(host, port, actor, desk)

    async def go() -> dict[str, Any]:
        async with CommandClient(
            host=host, port=port, actor=actor, desk=desk, timeout=3.0, retries=2, **curve
        ) as client:
            return await client.call(command, args)

    try:
        return asyncio.run(go())
    except (ValueError, zmq.ZMQError, FrameError) as exc:
        raise fail(f"Cannot reach hub at {host}:{port}: {exc}") from None
    except CommandRefused as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"Refused{where}: {exc.message}") from None
    except HubUnavailable:
        hint = (
            " If it runs with --keys, check that this desk's public key is on its allow-list "
            "and that --hub-key is that hub's hub.key."
            if curve
            else " If it runs with --keys, pass --hub-key and --desk-key."
        )
        raise fail(
            f"No hub answered at {host}:{port}. Start one with `hubdesk serve` or `hubdesk demo`."
            + hint,
            2,
        ) from None
