"""Tests of the persistence layer: repositories on SQLite and PostgreSQL."""
