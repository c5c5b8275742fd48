"""Tests of the admin GraphQL API, through HTTP."""
