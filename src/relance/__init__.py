"""relance: triggered, personalised, multilingual campaigns for headless stores."""

__version__ = "0.1.0"
