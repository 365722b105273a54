"""Swedish personal identity numbers (personnummer and samordningsnummer).

Accepted forms: ``YYYYMMDD-NNNN``, ``YYYYMMDDNNNN``, ``YYMMDD-NNNN`` and
``YYMMDD+NNNN`` (``+`` marks someone aged 100 or more). The last digit is a
Luhn check over the ten digits ``YYMMDDNNNN``. Coordination numbers
(samordningsnummer) add 60 to the day. Error messages never repeat the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_LONG = re.compile(r"^(\d{4})(\d{2})(\d{2})-?(\d{3})(\d)$")
_SHORT = re.compile(r"^(\d{2})(\d{2})(\d{2})([-+])(\d{3})(\d)$")


@dataclass(frozen=True)
class Personnummer:
    """A validated identity number in its canonical twelve-digit form."""

    birth_date: date
    serial: str  # the three digits after the date
    check: str
    coordination: bool

    @property
    def canonical(self) -> str:
        day = self.birth_date.day + (60 if self.coordination else 0)
        return f"{self.birth_date:%Y%m}{day:02d}-{self.serial}{self.check}"


def luhn_check_digit(nine_digits: str) -> int:
    """The Luhn digit that completes ``nine_digits`` (YYMMDDNNN)."""
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def parse_personnummer(text: str, today: date) -> Personnummer:
    """Validate ``text`` and return it parsed; raise ``ValueError`` if invalid."""
    long_match = _LONG.match(text)
    if long_match:
        century, yy = long_match.group(1)[:2], long_match.group(1)[2:]
        month, day, serial, check = long_match.group(2, 3, 4, 5)
        year = int(century + yy)
    else:
        short_match = _SHORT.match(text)
        if short_match is None:
            raise ValueError(
                "personnummer must be YYYYMMDD-NNNN or YYMMDD-NNNN (digits only)"
            )
        yy, month, day, sign, serial, check = short_match.groups()
        year = _infer_year(int(yy), sign, today)
    if luhn_check_digit(f"{year % 100:02d}{month}{day}{serial}") != int(check):
        raise ValueError("personnummer check digit (Luhn) does not match")
    coordination = int(day) > 60
    real_day = int(day) - 60 if coordination else int(day)
    try:
        birth_date = date(year, int(month), real_day)
    except ValueError:
        raise ValueError("personnummer does not hold a valid birth date") from None
    if birth_date > today:
        raise ValueError("personnummer birth date is in the future")
    return Personnummer(birth_date, serial, check, coordination)


def _infer_year(yy: int, sign: str, today: date) -> int:
    """The century of a ten-digit number: ``-`` under 100 years old, ``+`` over."""
    year = today.year - (today.year - yy) % 100
    return year - 100 if sign == "+" else year
