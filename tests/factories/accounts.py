"""Factories for accounts tests."""
