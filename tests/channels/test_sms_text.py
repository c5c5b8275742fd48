"""SMS encodings and segment counts (3GPP TS 23.038 / 23.040): GSM-7 with its extension table,
UCS-2 with surrogate pairs, 160/153 and 70/67 units, escape sequences never split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.channels.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsEncoding,
    analyse,
    is_gsm7,
)

GSM7 = SmsEncoding.GSM7
UCS2 = SmsEncoding.UCS2


def test_the_alphabets_have_their_standard_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points, the escape excepted
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 0),
        ("Hello", GSM7, 5, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),  # each € is ESC + e
        ("€" * 81, GSM7, 162, 2),
        ("a" * 159 + "€", GSM7, 161, 2),
        # 152 + a 2-septet € does not fit in 153: the escape sequence opens part two
        ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3),
        ("a" * 151 + "€" + "a" * 153, GSM7, 306, 2),
        ("Ça coûte 10 €", UCS2, 13, 1),  # û is not GSM-7
        ("Ça va ? Très bien, à demain.", GSM7, 28, 1),  # Ç, è, à are
        ("ça", UCS2, 2, 1),  # lower-case ç is not
        ("é" * 70, GSM7, 70, 1),
        ("ê" * 70, UCS2, 70, 1),
        ("ê" * 71, UCS2, 71, 2),
        ("ê" * 134, UCS2, 134, 2),
        ("ê" * 135, UCS2, 135, 3),
        ("👋", UCS2, 2, 1),  # outside the BMP: a surrogate pair
        ("👋" * 35, UCS2, 70, 1),
        # 66 units + a pair does not fit in 67: the pair opens part two
        ("ê" * 66 + "👋" + "ê" * 66, UCS2, 134, 3),
        ("Привет", UCS2, 6, 1),
        ("line\nbreak\r", GSM7, 11, 1),
    ],
)
def test_encoding_units_and_segments(
    text: str, encoding: SmsEncoding, units: int, segments: int
) -> None:
    info = analyse(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


def test_the_summary_is_what_the_message_row_records() -> None:
    assert analyse("Hi").summary() == "SMS · 1 segment · GSM-7"
    assert analyse("ê" * 71).summary() == "SMS · 2 segments · UCS-2"


def test_gsm7_detection() -> None:
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà{}[]~|^\\€")
    assert not is_gsm7("`")  # the backtick is not in the alphabet
    assert not is_gsm7("\x1b")  # nor is a raw escape


@given(st.text(alphabet=sorted(GSM7_BASIC), max_size=1000))
def test_plain_gsm7_counts_match_the_formula(text: str) -> None:
    info = analyse(text)
    expected = 0 if not text else 1 if len(text) <= 160 else -(-len(text) // 153)
    assert (info.encoding, info.units, info.segments) == (GSM7, len(text), expected)


@given(st.text(min_size=1, max_size=700))
def test_every_segment_holds_at_most_its_units(text: str) -> None:
    info = analyse(text)
    single, part = (160, 153) if info.encoding is GSM7 else (70, 67)
    if info.units <= single:
        assert info.segments == 1
    else:  # never fewer than the plain division, at most one more per two-unit character
        assert info.segments >= -(-info.units // part)
        assert info.segments <= -(-info.units // (part - 1))
