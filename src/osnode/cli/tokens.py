"""``osnode users list`` and ``osnode tokens list/create/revoke``: accounts and scoped API tokens on a data
folder, as its operator (the same service calls as the account page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Annotated
from urllib.parse import quote

import typer
from rich.table import Table

from ..config import load_settings
from ..services import accounts, invitations, users
from ..services.node import Node, utcnow
from . import AdminSession, DataOpt, JsonOpt, out, users_app

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()
tokens_app = typer.Typer(help="API tokens: list, create (named, scoped, expiring) and revoke.", no_args_is_help=True)
commands.add_typer(tokens_app, name="tokens")


@users_app.command("list")
def list_users(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """List the node's users with their role."""
    node = Node.open(load_settings(data))
    try:
        found = users.list_users(node)
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps([{"id": u.id, "name": u.name, "role": u.role.value} for u in found]))
        return
    table = Table("id", "name", "role")
    for user in found:
        table.add_row(str(user.id), user.name, user.role.value)
    out.print(table)


@users_app.command("approve")
def approve(name: str, data: DataOpt = None) -> None:
    """Approve a waiting account (registration mode "approval"): NAME is its user name or email."""
    local = AdminSession(data)
    try:
        user = (
            users.get_user(local.node, accounts.normal_email(name)) if "@" in name else users.get_user(local.node, name)
        )
        accounts.set_status(local.node, local.viewer, user.id, accounts.ACTIVE)
    finally:
        local.close()
    out.print(f"user '{user.name}' approved")


@users_app.command("invite")
def invite(email: str, data: DataOpt = None) -> None:
    """Invite EMAIL (registration mode "invitation") and print the single-use link to send them."""
    local = AdminSession(data)
    try:
        token = invitations.invite(local.node, local.viewer, email)
        base = local.node.settings.public_url
    finally:
        local.close()
    out.print(f"{base}/register?invitation={quote(token)}&email={quote(accounts.normal_email(email))}")


@tokens_app.command("list")
def list_tokens(name: str, as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """List a user's tokens (never the tokens themselves: only their names, scopes and dates)."""
    node = Node.open(load_settings(data))
    try:
        found = users.list_tokens(node, users.get_user(node, name).id)
    finally:
        node.close()
    now = utcnow()
    rows = [
        {
            "id": t.id,
            "name": t.label,
            "scope": t.scope,
            "created": t.created.isoformat(),
            "expires": t.expires.isoformat() if t.expires else None,
            "active": t.active(now),
        }
        for t in found
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("id", "name", "scope", "expires", "active")
    for row in rows:
        table.add_row(
            str(row["id"]), str(row["name"]), str(row["scope"]), str(row["expires"] or "never"), str(row["active"])
        )
    out.print(table)


@tokens_app.command("create")
def create(
    name: str,
    label: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    scope: Annotated[str, typer.Option(help="read, deposit or admin.")] = "deposit",
    expires: Annotated[str, typer.Option(help="Last day it works (YYYY-MM-DD); none: never expires.")] = "",
    data: DataOpt = None,
) -> None:
    """Make a token for user NAME and print it (it is shown this once)."""
    try:
        until = datetime.combine(datetime.fromisoformat(expires).date(), time.max, tzinfo=UTC) if expires else None
    except ValueError:
        raise typer.BadParameter("--expires takes a date, YYYY-MM-DD") from None
    node = Node.open(load_settings(data))
    try:
        token = users.create_token(node, users.get_user(node, name), label, scope, until)
    finally:
        node.close()
    out.print(token)


@tokens_app.command("revoke")
def revoke(name: str, token_id: int, data: DataOpt = None) -> None:
    """Revoke token TOKEN_ID of user NAME."""
    node = Node.open(load_settings(data))
    try:
        users.revoke_token(node, users.get_user(node, name).id, token_id)
    finally:
        node.close()
    out.print(f"token {token_id} revoked")
