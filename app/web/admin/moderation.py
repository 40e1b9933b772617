"""admin_moderation views."""

from flask import Blueprint

bp = Blueprint("admin_moderation", __name__)
