"""organizer_seatmap views."""

from flask import Blueprint

bp = Blueprint("organizer_seatmap", __name__)
