"""Repositories: typed queries and writes, one module per aggregate."""
