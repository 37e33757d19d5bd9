"""The system of record: engine, sessions, the declarative base and Alembic migrations."""
