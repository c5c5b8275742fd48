"""The demo store: a local stand-in for a Saleor that signs its webhooks like Saleor does."""
