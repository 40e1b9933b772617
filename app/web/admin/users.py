"""admin_users views."""

from flask import Blueprint

bp = Blueprint("admin_users", __name__)
