"""What is said: texts members and staff read, templates and content."""
