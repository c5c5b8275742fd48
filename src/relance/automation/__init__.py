"""The pure core of relance: events, contacts, campaign definitions and the engine.

Nothing in this package does I/O. It imports the standard library and pydantic only; every
decision is a function of (definition, state, event, now) that returns what to do, and the
layers around it (tasks/, store/, channels/) carry it out. A test enforces the boundary.
"""
