"""Ingestion: any department file or database in, standardised versioned data out."""
