"""When it is said: campaigns, the planner, the calendar and the scheduler (later issues)."""
