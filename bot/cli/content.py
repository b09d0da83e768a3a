"""`outreach content`: load the content packs and list, show and preview their messages."""

from __future__ import annotations

import click


@click.group()
def content() -> None:
    """Load the content packs and list, show and preview their messages."""
