"""Factory fixtures by area; each returns a callable that creates and flushes objects."""
