"""The `brandpulse` command line: thin Typer shells over the services (entry point: main.app)."""
