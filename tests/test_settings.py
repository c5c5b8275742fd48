import pytest

from relance.settings import Settings


def test_embedded_defaults() -> None:
    settings = Settings()
    assert settings.embedded_broker
    assert settings.embedded_smtp
    assert settings.saleor_url_allowed("https://anything.example/graphql/")


def test_allowed_saleor_urls_are_shell_patterns() -> None:
    settings = Settings(
        allowed_saleor_urls="https://*.saleor.cloud/graphql/, https://shop.example/graphql/"
    )  # type: ignore[arg-type]
    assert settings.saleor_url_allowed("https://acme.saleor.cloud/graphql/")
    assert settings.saleor_url_allowed("https://shop.example/graphql/")
    assert not settings.saleor_url_allowed("https://evil.example/graphql/")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "RELANCE_SECRET_KEY"),
        ({"secret_key": "s3cret"}, "RELANCE_ALLOWED_SALEOR_URLS"),
    ],
)
def test_production_refuses_unsafe_settings(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(env="production", **values).check_production()  # type: ignore[arg-type]


def test_production_accepts_explicit_settings() -> None:
    Settings(env="production", secret_key="s3cret", allowed_saleor_urls="*").check_production()  # type: ignore[arg-type]
