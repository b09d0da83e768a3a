"""What is remembered: typed models, queries and migrations."""
