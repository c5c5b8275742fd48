"""Errors raised while finding and rendering email designs.

The tree::

    TemplatesError                 root: catch this to handle any templates failure
    ├── DesignNotFound             no such design, or a design with no complete language
    └── TemplateRenderError        the design's MJML or Jinja2 cannot be compiled, or rendering
                                   it with the given context failed (the message says which)

Messages name designs, languages and template positions, never the context's values: contact
data stays out of exceptions and therefore out of logs.
"""

from __future__ import annotations


class TemplatesError(Exception):
    """Root of every error raised by :mod:`relance.templates`."""


class DesignNotFound(TemplatesError):
    """The design does not exist in the library, or has no language with all three parts."""


class TemplateRenderError(TemplatesError):
    """The design cannot be compiled, or rendering it with the given context failed."""
