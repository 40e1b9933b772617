"""`flask users ...`: account administration from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain.accounts.errors import AccountError
from app.domain.accounts.registration import create_admin
from app.domain.base import utcnow

users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create-admin")
@click.option("--email", required=True, help="The admin's email address.")
@click.option("--name", required=True, help="The admin's name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given (safer: it stays out of the shell history).",
)
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an admin account (email counted as verified; 2FA is set up at first login)."""
    with current_app.extensions["db"].session() as session:
        try:
            user = create_admin(session, name=name, email=email, password=password, now=utcnow())
        except AccountError as error:
            raise click.ClickException(error.message) from error
        session.commit()
        click.echo(f"admin created: {user.email} (id {user.id}); log in and turn on 2FA")
