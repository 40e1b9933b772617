"""The organizer's back office reports: attendee lists and their exports."""
