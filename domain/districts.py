"""The municipality's districts (*stadsdelar*): a code list, configured.

The list is text, one district a line: ``code;name`` (``#`` starts a
comment). A submission names a district by its code or its name, in any
case and spacing ("  norrby", "NORRBY", "Norrby" are one); the fact records
its code. The default is the simulated municipality's seven districts; an
installation names its own file (``BOENDE_DISTRICTS_FILE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DISTRICTS = """\
# code;name — the simulated municipality's districts
centrum;Centrum
norrby;Norrby
söderberga;Söderberga
västerdal;Västerdal
österäng;Österäng
björkhaga;Björkhaga
ekbacken;Ekbacken
"""

_CODE = re.compile(r"^[a-zåäöéü0-9_-]{1,32}$")


def normalised(name: str) -> str:
    """A name trimmed, runs of white space made one, case folded."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class DistrictList:
    """Codes in the list's order, each with its name."""

    names: dict[str, str]  # code -> name

    @property
    def codes(self) -> list[str]:
        return list(self.names)

    def code_of(self, text: str) -> str | None:
        """The code ``text`` names (as a code or a name), or None."""
        wanted = normalised(text)
        for code, name in self.names.items():
            if wanted in (code, normalised(name)):
                return code
        return None


def parse_district_list(text: str) -> DistrictList:
    """Read a list; ``ValueError`` naming the line of a bad or repeated entry."""
    names: dict[str, str] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        code, _, name = (part.strip() for part in line.partition(";"))
        code = code.casefold()
        if not _CODE.match(code) or not name or len(name) > 200:
            raise ValueError(
                f"line {number}: a district is 'code;name', the code 1-32 "
                "lower-case letters, digits, - or _"
            )
        if code in seen or normalised(name) in seen:
            raise ValueError(f"line {number}: {code!r} or its name is listed twice")
        seen |= {code, normalised(name)}
        names[code] = " ".join(name.split())
    if not names:
        raise ValueError("the district list names no district")
    return DistrictList(names)
