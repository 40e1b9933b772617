"""account-facing views."""
