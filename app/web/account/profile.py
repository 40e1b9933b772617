"""account_profile views."""

from flask import Blueprint

bp = Blueprint("account_profile", __name__)
