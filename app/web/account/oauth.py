"""account_oauth views."""

from flask import Blueprint

bp = Blueprint("account_oauth", __name__)
