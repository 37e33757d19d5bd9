"""The `govlink` command: a thin Typer layer over the same services the API uses."""
