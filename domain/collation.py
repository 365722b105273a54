"""Swedish alphabetical order, for names shown to the municipality.

Districts and landlords are listed as a Swedish reader looks them up: case
does not matter ("norr" and "Norr" sit together), å, ä and ö come after z in
that order, and the letters Swedish dictionaries file with another (é with
e, ü with y, æ with ä, ø with ö) sit with it. Ties (names that differ only
in case or accents) fall back to code-point order, so the order is total
and the same on every machine and both engines: nothing here depends on
the locale of the host or the database's collation.
"""

from __future__ import annotations

# After z: "{", "|" and "}" follow "z" in code-point order.
_LETTERS = str.maketrans(
    {
        "å": "{",
        "ä": "|",
        "æ": "|",
        "ö": "}",
        "ø": "}",
        "é": "e",
        "è": "e",
        "ü": "y",
    }
)


def swedish_key(name: str) -> tuple[str, str]:
    """A sort key putting ``name`` in Swedish alphabetical order."""
    return " ".join(name.split()).casefold().translate(_LETTERS), name
