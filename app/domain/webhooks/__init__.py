"""Webhooks out: organizers' endpoints, the deliveries queued for them, and sending."""
