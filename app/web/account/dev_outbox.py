"""account_dev_outbox views."""

from flask import Blueprint

bp = Blueprint("account_dev_outbox", __name__)
