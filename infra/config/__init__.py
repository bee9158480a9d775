"""Stack configuration: the stack files' sections, their environment defaults, validation and loading."""
