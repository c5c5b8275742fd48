"""relance's admin GraphQL API (Strawberry), served at ``/graphql``. Resolvers only translate.

Authentication (done once per request, in the view's ``get_context``; see :mod:`.auth`):

- ``Authorization: Bearer rl_…`` — an API token (``relance token create``): admin of its store.
- ``authorization-bearer: <JWT>`` + ``saleor-api-url: <API URL>`` — the Saleor Dashboard's app
  token (RS256, verified against the store's JWKS, ``app`` claim = the installation's App id).

Permissions:

- every query needs a valid credential, else a GraphQL error with ``extensions.code``
  ``UNAUTHENTICATED``; a caller only ever sees its own store's data (another store's campaign is
  "not found");
- every mutation also needs ``MANAGE_USERS`` in a Dashboard token's ``user_permissions`` (else
  ``FORBIDDEN``); API tokens may always mutate.

Expected mutation failures come back as ``errors: [{field, code, message}]`` on the payload, as in
Saleor; unexpected exceptions are logged and masked (see :mod:`.schema`).
"""

from relance.graphql.context import AuthMethod, Context, Info, Principal
from relance.graphql.schema import schema

__all__ = ["AuthMethod", "Context", "Info", "Principal", "schema"]
