"""Connect the Zalo Official Account: `outreach zalo connect` and `outreach zalo status`."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import parse_qs, urlsplit

import click

from bot.channels.zalo_oa import ZaloOAClient
from bot.channels.zalo_oa_tokens import (
    PROVIDER,
    Pair,
    TokenKeeper,
    TokenProblem,
    ZaloOAuth,
    pkce_pair,
    save_pair,
)
from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings
from bot.settings import Settings, SettingsError
from db.base import utcnow
from db.models import OAuthToken


@click.group()
def zalo() -> None:
    """Connect and check the Zalo Official Account."""


def _oauth(config: Settings) -> ZaloOAuth:
    if not (config.zalo_oa and config.zalo_oa_app_id and config.zalo_oa_app_secret):
        raise SettingsError(
            "the Zalo OA is not configured: set ZALO_OA_APP_ID, ZALO_OA_APP_SECRET and "
            "ZALO_OA_SECRET_KEY (from developers.zalo.me) first"
        )
    return ZaloOAuth(config.zalo_oauth_url, config.zalo_oa_app_id, config.zalo_oa_app_secret)


@zalo.command()
@click.option(
    "--redirect-uri", help="The callback URL registered for the app on developers.zalo.me."
)
@click.option("--code", "pasted", help="The address Zalo redirected to, or just its code.")
@click.option("--refresh-token", help="Use a refresh token from Zalo's API explorer instead.")
@fail_cleanly
def connect(redirect_uri: str | None, pasted: str | None, refresh_token: str | None) -> None:
    """Authorise this app to send as the OA (OAuth v4 with PKCE) and keep the tokens."""
    config = settings()
    oauth = _oauth(config)
    if refresh_token:
        grant = {"grant_type": "refresh_token", "refresh_token": refresh_token.strip()}
    else:
        redirect = redirect_uri or (config.outreach_public_url or "") + "/zalo/callback"
        if not redirect.startswith("https://"):
            raise UsageProblem("give --redirect-uri (the callback URL registered for the app)")
        verifier, challenge = pkce_pair()
        if pasted is None:
            click.echo("1. Open this address, logged in as an admin of the OA, and allow access:")
            click.echo(f"   {oauth.permission_url(redirect, challenge, secrets.token_hex(8))}")
            click.echo("2. Zalo then opens an address with ?code=... in it.")
            pasted = click.prompt("Paste that address (or just the code)")
        grant = {
            "grant_type": "authorization_code",
            "code": _code(pasted),
            "code_verifier": verifier,
        }
    name = asyncio.run(_connect(config, oauth, grant))
    click.echo(f"connected to the Zalo OA “{name}”; tokens saved and renewed automatically")


def _code(pasted: str) -> str:
    """Take the code out of a pasted redirect address, or the code itself."""
    pasted = pasted.strip()
    found = parse_qs(urlsplit(pasted).query).get("code")
    return found[0] if found else pasted


async def _connect(config: Settings, oauth: ZaloOAuth, grant: dict[str, str]) -> str:
    """Exchange the grant, save the pair, and prove it works by reading the OA's name."""
    factory = sessions()
    try:
        pair: Pair = await oauth.exchange(grant)
    except TokenProblem as problem:
        await oauth.close()
        raise UsageProblem(f"{problem}; start again with `outreach zalo connect`") from None
    with factory.begin() as session:
        save_pair(session, pair, utcnow())
    tokens = TokenKeeper(factory, oauth, clock=utcnow)
    client = ZaloOAClient(config.zalo_oa_api_url, config.zalo_zns_api_url, tokens)
    try:
        info = await client.oa_info()
    finally:
        await client.close()
    return str(info.get("name", "?"))


@zalo.command()
@fail_cleanly
def status() -> None:
    """Say whether the OA is connected and until when its tokens last."""
    with sessions()() as session:
        row = session.get(OAuthToken, PROVIDER)
    if row is None:
        raise UsageProblem("the Zalo OA is not connected: run `outreach zalo connect`")
    click.echo(
        f"access token valid until  {row.access_expires_at:%Y-%m-%d %H:%M} UTC "
        "(renewed automatically)"
    )
    click.echo(f"refresh token valid until {row.refresh_expires_at:%Y-%m-%d} (renewed with it)")
    if row.last_error:
        click.echo(f"last renewal FAILED: {row.last_error}")
        click.echo("fix: run `outreach zalo connect` to authorise the app again")
