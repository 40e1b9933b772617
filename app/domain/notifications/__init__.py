"""Notifications: mail (and later SMS, push, in-app) queued through the outbox."""
