"""Events, their speakers and categories, moderation and abuse reports."""
