"""Email content: MJML designs per language and the renderer that personalises them.

A :class:`DesignLibrary` finds designs and their languages; an :class:`EmailRenderer` compiles a
design once per version and language and renders it per contact into a :class:`RenderedEmail`.
Errors derive from :class:`TemplatesError` (see errors.py).
"""

from relance.templates.errors import DesignNotFound, TemplateRenderError, TemplatesError
from relance.templates.library import DesignLibrary, DesignSource
from relance.templates.locales import resolve_language
from relance.templates.renderer import EmailRenderer, RenderedEmail

__all__ = [
    "DesignLibrary",
    "DesignNotFound",
    "DesignSource",
    "EmailRenderer",
    "RenderedEmail",
    "TemplateRenderError",
    "TemplatesError",
    "resolve_language",
]
