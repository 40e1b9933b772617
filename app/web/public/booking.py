"""public_booking views."""

from flask import Blueprint

bp = Blueprint("public_booking", __name__)
