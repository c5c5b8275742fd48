from __future__ import annotations

import json

import jwt
import pytest

from relance.plugin.saleor.errors import InvalidSignature, MalformedSignature, UnknownKeyId
from relance.plugin.saleor.signature import signature_key_id, verify_webhook_signature
from tests.fixtures.saleor import SaleorSigner, sample_body


@pytest.fixture(scope="module")
def signer() -> SaleorSigner:
    return SaleorSigner()


def test_saleor_signature_is_a_detached_unencoded_rs256_jws(signer: SaleorSigner) -> None:
    # given a body signed the way Saleor signs it
    signature = signer.sign(sample_body("order_created"))
    # then the value is <header>..<signature> with b64=false declared critical
    _header_part, payload_part, _ = signature.split(".")
    assert payload_part == ""
    header = jwt.get_unverified_header(signature)
    assert header["alg"] == "RS256"
    assert header["b64"] is False
    assert header["crit"] == ["b64"]
    assert header["kid"] == signer.kid == signature_key_id(signature)


def test_the_raw_body_verifies(signer: SaleorSigner) -> None:
    body = sample_body("order_created")
    # when verified with the signer's JWKS, then nothing is raised
    verify_webhook_signature(signer.sign(body), body, signer.jwks())


def test_a_tampered_body_fails(signer: SaleorSigner) -> None:
    # given a signed body whose total was changed on the way
    body = sample_body("order_created")
    signature = signer.sign(body)
    tampered = body.replace(b'"amount": 132.9', b'"amount": 1.0')
    assert tampered != body
    # then verification fails
    with pytest.raises(InvalidSignature):
        verify_webhook_signature(signature, tampered, signer.jwks())


def test_re_serialised_json_fails_so_raw_bytes_must_be_verified(signer: SaleorSigner) -> None:
    # given the same JSON, serialised differently
    body = sample_body("order_created")
    signature = signer.sign(body)
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    # then it does not verify: only the bytes as received do
    with pytest.raises(InvalidSignature):
        verify_webhook_signature(signature, compact, signer.jwks())


def test_an_unknown_kid_is_reported_as_such(signer: SaleorSigner) -> None:
    # given a body signed by a key the JWKS does not hold
    other = SaleorSigner()
    body = b'{"order": null}'
    # then the kid is named so the caller can refetch the JWKS
    with pytest.raises(UnknownKeyId) as raised:
        verify_webhook_signature(other.sign(body), body, signer.jwks())
    assert raised.value.kid == other.kid


def test_a_different_key_under_the_same_kid_fails(signer: SaleorSigner) -> None:
    # given Saleor rotated its key but kept the kid (older Saleor used the constant "1")
    impostor = SaleorSigner(kid=signer.kid)
    body = b"{}"
    with pytest.raises(InvalidSignature):
        verify_webhook_signature(impostor.sign(body), body, signer.jwks())


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not-a-jws",
        "a.b.c",
        "e30..c2ln",  # header {} (no alg)
    ],
)
def test_malformed_values_are_rejected(signer: SaleorSigner, signature: str) -> None:
    with pytest.raises(MalformedSignature):
        verify_webhook_signature(signature, b"{}", signer.jwks())


def test_an_attached_payload_jws_is_rejected(signer: SaleorSigner) -> None:
    # given a classic JWS carrying its own (base64) payload
    body = b'{"order": {}}'
    attached = jwt.api_jws.encode(
        body, signer.private_key, algorithm="RS256", headers={"kid": signer.kid}
    )
    with pytest.raises(MalformedSignature):
        verify_webhook_signature(attached, body, signer.jwks())


def test_an_hmac_jws_is_rejected_even_with_the_public_key_as_secret(signer: SaleorSigner) -> None:
    # given an attacker signing with HS256 (algorithm confusion)
    body = b"{}"
    forged = jwt.api_jws.encode(
        body, "s" * 64, algorithm="HS256", headers={"kid": signer.kid}, is_payload_detached=True
    )
    with pytest.raises(MalformedSignature):
        verify_webhook_signature(forged, body, signer.jwks())
