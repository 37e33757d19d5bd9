"""Pure functions for Chinese identifiers and values: no I/O, no domain tables."""
