"""Users, roles, credentials, sessions, organizer applications."""
