"""account_bookings views."""

from flask import Blueprint

bp = Blueprint("account_bookings", __name__)
