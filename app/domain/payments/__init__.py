"""Payments: checkouts, provider events, refunds (see each module)."""
