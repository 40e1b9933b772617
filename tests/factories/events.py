"""Factories for events tests."""
