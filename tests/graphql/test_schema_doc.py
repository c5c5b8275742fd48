"""docs/schema.graphql is the API reference: it must match the schema relance serves."""

from pathlib import Path

from relance.graphql.schema import schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_the_documented_schema_is_the_served_schema() -> None:
    # regenerate with: relance schema > docs/schema.graphql
    assert DOC.read_text() == schema.as_str() + "\n"
