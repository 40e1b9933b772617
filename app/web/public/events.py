"""public_events views."""

from flask import Blueprint

bp = Blueprint("public_events", __name__)
