"""To whom and how: channels, conversations, the dispatcher, the CLI."""
