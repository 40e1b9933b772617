"""public_home views."""

from flask import Blueprint

bp = Blueprint("public_home", __name__)
