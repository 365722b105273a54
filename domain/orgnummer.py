"""Swedish organisation numbers (*organisationsnummer*): a landlord's identifier.

Accepted forms: ``NNNNNN-NNNN`` and ``NNNNNNNNNN``. Ten digits, the last a
Luhn check over the nine before it (as in a personnummer), and the third
digit 2 or more: Bolagsverket and Skatteverket give legal persons numbers
whose "month" is 20 or more, so that no organisation number is a possible
personnummer. The first digit (the legal form: 2 public bodies, 5 limited
companies, 8 foundations and associations, ...) is not checked: a new form
must not stop a submission.

A sole trader (*enskild näringsidkare*) has no number of their own: their
personnummer serves. That is personal data, and a landlord register is
read by oversight, so it is refused here (third digit 0 or 1); such a
landlord is recorded without ``landlord_org_no`` and grouped by name.
Error messages never repeat the number.
"""

from __future__ import annotations

import re

from domain.personnummer import luhn_check_digit

_FORM = re.compile(r"^(\d{6})-?(\d{4})$")


def parse_orgnummer(text: str) -> str:
    """``text`` in its canonical form ``NNNNNN-NNNN``; ``ValueError`` if invalid."""
    match = _FORM.match(text)
    if match is None:
        raise ValueError("organisation number must be NNNNNN-NNNN (ten digits)")
    digits = match.group(1) + match.group(2)
    if int(digits[2]) < 2:
        raise ValueError(
            "a number whose third digit is 0 or 1 is a personnummer (a sole "
            "trader's); leave landlord_org_no out for such a landlord"
        )
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise ValueError("organisation number check digit (Luhn) does not match")
    return f"{digits[:6]}-{digits[6:]}"
