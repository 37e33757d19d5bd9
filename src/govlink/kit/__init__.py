"""Generic helpers with no domain words."""
