"""public-facing views."""
