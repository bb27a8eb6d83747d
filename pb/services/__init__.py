"""Domain rules. Services take the acting user and a session, flush, and never commit."""
