"""Check an installation and say in plain words what to fix (`outreach doctor`)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

import click

from bot.doctor import Check, run_checks

TAGS = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}
INDENT = " " * 7  # under the check's name, past its tag


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for scripts.")
def doctor(as_json: bool) -> None:
    """Check the configuration, the database, each channel's credentials and the clock."""
    checks = asyncio.run(run_checks())
    ok = not any(check.status == "fail" for check in checks)
    if as_json:
        report = {"checks": [asdict(check) for check in checks], "ok": ok}
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        for check in checks:
            click.echo(format_check(check))
        click.echo(summary(checks))
    if not ok:
        raise SystemExit(1)


def format_check(check: Check) -> str:
    """Write a check as its line, and a "fix:" line under it when something is to be done."""
    line = f"{TAGS[check.status]} {check.name:<13} {check.detail}"
    if check.status != "ok" and check.fix:
        line += f"\n{INDENT}fix: {check.fix}"
    return line


def summary(checks: list[Check]) -> str:
    """Count the checks by outcome, e.g. "3 ok, 1 warning, 1 problem"."""
    ok, warnings, problems = (sum(c.status == s for c in checks) for s in ("ok", "warn", "fail"))
    return (
        f"{ok} ok, {warnings} warning{'s' * (warnings != 1)}, "
        f"{problems} problem{'s' * (problems != 1)}"
    )
