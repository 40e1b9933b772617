"""`flask users ...`: account administration from the command line."""

from __future__ import annotations

from flask.cli import AppGroup

users_cli = AppGroup("users", help="User accounts.")
