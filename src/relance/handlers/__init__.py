"""HTTP edges: webhooks, pages and endpoints. Thin: they translate and delegate."""
