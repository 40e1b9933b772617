"""Door staff and check-in: who may scan an event's tickets, and the scans themselves."""
