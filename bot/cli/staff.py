"""Staff and the audit log from the command line: `outreach staff ...` and `outreach audit`."""

from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy.orm import Session

from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings, tell
from db import audit
from db import staff as people
from db.areas import resolve_area, resolve_commune
from db.base import utcnow
from db.models import Area, AreaLevel, Channel, Staff, StaffRole

ROLES = click.Choice([r.value for r in StaffRole])
CHANNELS = click.Choice([c.value for c in Channel])


@click.group()
def staff() -> None:
    """Add, change, list and remove officers (admin, editor scoped to an area, approver)."""


def _area(session: Session, province: str | None, commune: str | None) -> Area | None:
    if commune is not None and province is None:
        raise UsageProblem("give the commune's --province too")
    if commune is not None and province is not None:
        return resolve_commune(session, province, commune, tell)
    if province is not None:
        return resolve_area(session, province, AreaLevel.PROVINCE, None, tell)
    return None


def _line(officer: Staff) -> str:
    area = officer.area.name if officer.area is not None else "everywhere"
    return (
        f"{officer.id}\t{officer.role.value}\t{officer.channel.value}:{officer.user_id}\t"
        f"{area}\t{officer.name or ''}"
    )


def _refused(exc: people.StaffProblem) -> UsageProblem:
    return UsageProblem(str(exc))


@staff.command("add")
@click.argument("user_id")
@click.option("--role", type=ROLES, required=True)
@click.option("--channel", type=CHANNELS, default="telegram", show_default=True)
@click.option("--province", help="Scope: this province (editors need a scope).")
@click.option("--commune", help="Scope: this commune of --province.")
@click.option("--name", help="How the officer is called, e.g. 'Chị Lan, xã Mỹ Sơn'.")
@fail_cleanly
def add(
    user_id: str,
    role: str,
    channel: str,
    province: str | None,
    commune: str | None,
    name: str | None,
) -> None:
    """Make a chat account (a Telegram user id) an officer."""
    with sessions().begin() as session:
        try:
            officer = people.add_staff(
                session,
                channel=Channel(channel),
                user_id=user_id,
                role=StaffRole(role),
                area=_area(session, province, commune),
                name=name,
                actor=audit.cli_actor(),
                now=utcnow(),
            )
        except people.StaffProblem as exc:
            raise _refused(exc) from None
        click.echo(_line(officer))


@staff.command("list")
@fail_cleanly
def list_() -> None:
    """List officers: id, role, account, scope, name."""
    with sessions()() as session:
        for officer in people.list_staff(session):
            click.echo(_line(officer))


@staff.command("set")
@click.argument("staff_id", type=int)
@click.option("--role", type=ROLES)
@click.option("--province", help="New scope: this province.")
@click.option("--commune", help="New scope: this commune of --province.")
@click.option("--everywhere", is_flag=True, help="No scope (admins and national approvers).")
@click.option("--name")
@fail_cleanly
def set_(
    staff_id: int,
    role: str | None,
    province: str | None,
    commune: str | None,
    everywhere: bool,
    name: str | None,
) -> None:
    """Change an officer's role, scope or name; prints what changed."""
    if everywhere and (province or commune):
        raise UsageProblem("give a scope or --everywhere, not both")
    with sessions().begin() as session:
        officer = people.get_staff(session, staff_id)
        changes: dict[str, object] = {}
        if province or commune:
            changes["area"] = _area(session, province, commune)
        elif everywhere:
            changes["area"] = None
        if name is not None:
            changes["name"] = name
        try:
            done = people.change_staff(
                session,
                officer,
                actor=audit.cli_actor(),
                now=utcnow(),
                role=StaffRole(role) if role else None,
                **changes,
            )
        except people.StaffProblem as exc:
            raise _refused(exc) from None
        click.echo(_line(officer))
        for key, (before, after) in done.items():
            click.echo(f"  {key}: {before} -> {after}")
        if not done:
            click.echo("  nothing changed")


@staff.command("remove")
@click.argument("staff_id", type=int)
@fail_cleanly
def remove(staff_id: int) -> None:
    """Remove an officer; the audit log keeps who they were."""
    with sessions().begin() as session:
        officer = people.get_staff(session, staff_id)
        line = _line(officer)
        try:
            people.remove_staff(session, officer, actor=audit.cli_actor(), now=utcnow())
        except people.StaffProblem as exc:
            raise _refused(exc) from None
        click.echo(f"removed: {line}")


@click.command("audit")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), help="From this day.")
@click.option("--actor", help="Only this actor, e.g. staff:3 or cli:root.")
@click.option("--action", help="Only this action, e.g. staff.add, or a family: 'broadcast.'.")
@click.option("--target", help="Only this target, e.g. broadcast:12.")
@click.option("--limit", default=100, show_default=True)
@fail_cleanly
def audit_log(
    since: datetime | None,
    actor: str | None,
    action: str | None,
    target: str | None,
    limit: int,
) -> None:
    """Read the audit log of staff actions, newest first: when, who, what, on what, changes."""
    tz = settings().tz
    start = since.replace(tzinfo=tz) if since is not None else None
    with sessions()() as session:
        found = audit.entries(
            session, since=start, actor=actor, action=action, target=target, limit=limit
        )
        for entry in found:
            changes = json.dumps(entry.changes, ensure_ascii=False, sort_keys=True)
            click.echo(
                f"{entry.at.astimezone(tz):%Y-%m-%d %H:%M:%S}\t{entry.actor}\t{entry.action}\t"
                f"{entry.target or '-'}\t{changes}"
            )
        if not found:
            click.echo("no audit entries match")
