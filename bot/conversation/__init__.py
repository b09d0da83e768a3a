"""Channel-neutral conversations with their state in the database."""
