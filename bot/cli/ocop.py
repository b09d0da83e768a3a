"""`outreach ocop`: import the OCOP catalog and send product spotlights."""

from __future__ import annotations

import click


@click.group()
def ocop() -> None:
    """Import the OCOP catalog and send product spotlights."""
