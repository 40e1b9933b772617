"""Organizer teams: the people an organizer (the owner of the team) lets into their back office,
each with a role."""
