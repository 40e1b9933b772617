"""Factories for ticketing tests."""
