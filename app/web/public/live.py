"""public_live views."""

from flask import Blueprint

bp = Blueprint("public_live", __name__)
