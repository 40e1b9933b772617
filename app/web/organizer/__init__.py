"""organizer-facing views."""
