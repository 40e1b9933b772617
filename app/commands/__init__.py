"""CLI command groups by area; registered in app/cli.py."""
