"""`outreach training`: create training courses, announce them and export who registered."""

from __future__ import annotations

import click


@click.group()
def training() -> None:
    """Create training courses, announce them and export who registered."""
