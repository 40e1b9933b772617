"""CLI commands: `flask db ...`, `flask users ...`, `flask demo ...`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import migrate
from app.db import direct_url

db_cli = AppGroup("db", help="Database migrations.")
demo_cli = AppGroup("demo", help="Demonstration data.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(direct_url(current_app.config), revision)
    click.echo(f"database upgraded to {revision}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo accounts and events once (does nothing if users exist)."""
    from app.demo import load_demo_once

    with current_app.extensions["db"].session() as session:
        lines = load_demo_once(session)
        session.commit()
    for line in lines:
        click.echo(line)


def register_cli(app: Flask) -> None:
    from app.commands.generate import generate_command
    from app.commands.users import users_cli

    demo_cli.add_command(generate_command)
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
