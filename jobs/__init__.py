"""Background worker (pgqueuer): notifications, reminders, hold expiry, waitlist offers."""
