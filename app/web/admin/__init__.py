"""admin-facing views."""
