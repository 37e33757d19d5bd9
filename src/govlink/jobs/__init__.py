"""Background jobs: a table in the database and workers that lease jobs from it."""
