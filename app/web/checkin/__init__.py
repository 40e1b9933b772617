"""Check-in staff pages: the door of an event (scanning, counters, offline sync)."""
