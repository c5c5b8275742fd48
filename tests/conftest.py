"""Shared fixtures: see tests/fixtures/ (one module per domain)."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.smtp",
    "tests.fixtures.runtime",
    "tests.fixtures.flows",
    "tests.fixtures.saleor",
    "tests.fixtures.twilio",
    "tests.fixtures.push_service",
]
