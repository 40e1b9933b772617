"""organizer_tiers views."""

from flask import Blueprint

bp = Blueprint("organizer_tiers", __name__)
