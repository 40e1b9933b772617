"""Tickets people carry: signed codes for their QR, verifiable offline with the event's key."""
