"""organizer_events views."""

from flask import Blueprint

bp = Blueprint("organizer_events", __name__)
