"""How an SMS text is encoded and into how many segments it is split (3GPP TS 23.038 / 23.040).

A text made only of characters of the GSM 03.38 default alphabet goes as **GSM-7**: 7-bit
septets, 160 per single message. Characters of its *extension table* (``^ { } \\ [ ~ ] | €``
and form feed) are sent as an escape septet plus one, so they count double. Any other character
(``ç``, ``ê``, an emoji, Cyrillic…) makes the whole text go as **UCS-2** (UTF-16 in practice):
16-bit code units, 70 per single message; characters outside the Basic Multilingual Plane (most
emoji) take two units.

A longer text is sent *concatenated*: each part carries a 6-byte user data header, leaving 153
septets (GSM-7) or 67 code units (UCS-2) per segment. An escape sequence or a surrogate pair is
never split between two segments (phones would show garbage), so a part may hold one unit less
than its maximum: segment counts here are exact, not ``ceil(length / 153)``.

Carriers bill per segment; Twilio refuses bodies over 1,600 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The GSM 03.38 default alphabet (its 0x1B escape excepted), in code order.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each of these is sent as ESC + one septet, so it counts as two.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

#: Units of one message sent alone, and of each part of a concatenated one.
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """What a text costs. ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2);
    ``characters`` are Unicode code points; an empty text has 0 segments."""

    encoding: SmsEncoding
    characters: int
    units: int
    segments: int

    def summary(self) -> str:
        """``SMS · 2 segments · GSM-7`` (for the message's trace)."""
        plural = "" if self.segments == 1 else "s"
        return f"SMS · {self.segments} segment{plural} · {self.encoding}"


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 alphabet or its extension."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _units(char: str, encoding: SmsEncoding) -> int:
    if encoding is SmsEncoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair


def analyse(text: str) -> SmsInfo:
    """Encoding, length and segment count of ``text`` as an SMS.

    Examples:
        >>> analyse("Hello").summary()
        'SMS · 1 segment · GSM-7'
        >>> analyse("€" * 80).units  # each € is an escape sequence
        160
        >>> analyse("Ça va ?").encoding  # Ç is GSM-7, but this ç is not
        <SmsEncoding.GSM7: 'GSM-7'>
        >>> analyse("ça va ?").encoding
        <SmsEncoding.UCS2: 'UCS-2'>
    """
    encoding = SmsEncoding.GSM7 if is_gsm7(text) else SmsEncoding.UCS2
    single, part = (
        (GSM7_SINGLE, GSM7_PART) if encoding is SmsEncoding.GSM7 else (UCS2_SINGLE, UCS2_PART)
    )
    sizes = [_units(char, encoding) for char in text]
    units = sum(sizes)
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:  # fill parts greedily; a two-unit character that does not fit opens the next part
        segments, used = 1, 0
        for size in sizes:
            if used + size > part:
                segments, used = segments + 1, 0
            used += size
    return SmsInfo(encoding=encoding, characters=len(text), units=units, segments=segments)
