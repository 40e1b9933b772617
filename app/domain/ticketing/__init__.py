"""Tiers, sellable units (seats or general admission), bookings, tickets, waitlist."""
