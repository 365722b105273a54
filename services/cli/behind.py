"""The check at start of ``serve``, ``project``, ``ingest`` and ``relay``:
refuse to run on a log that is behind what was already made from it.

After an older backup of the log is restored (or the log is cut short), its
next facts would take positions that a read model, the relay or a signed
tree head already counted: read models ahead of the log would skip them and
report no lag, the relay's consumers would drop them as repeats, and a
fresh head would be signed over a size the store does not hold. So each of
these commands first compares the log's end with every read model's
position, the relay's position and the newest signed head (the store's, or
the head files outside it, ``infra.head_mirror``; one whose signature does
not hold is left to ``boende audit verify``), and names what is ahead.

Nothing is repaired on its own: read models are rebuilt by the operator
(``boende projections rebuild all``), and a head is never re-signed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from infra.head_mirror import Found, HeadMirror, newest, signed_on
from infra.settings import Settings
from infra.signing import SigningKeyError, read_signer, verify_head

if TYPE_CHECKING:
    from infra.store import CaseLog

REFUSED = 2  # the exit status of a start refused here
REBUILD = "boende projections rebuild all"


def refuse_when_behind(settings: Settings, command: str) -> int | None:
    """``REFUSED`` after saying why on stderr, or None when the log is
    not behind anything: the caller starts only on None."""
    reasons = log_behind(settings)
    for reason in reasons:
        print(f"boende {command}: the log is behind {reason}", file=sys.stderr)
    return REFUSED if reasons else None


def log_behind(settings: Settings) -> list[str]:
    """What the log is behind, one sentence each (after "the log is behind")."""
    from infra.schema_lock import schema_lock
    from infra.store import CaseLog

    with schema_lock(settings):  # other processes may be starting too
        app = CaseLog(env=settings.eventsourcing_env())
    try:
        end = app.recorder.max_notification_id() or 0
        reasons = _behind_a_head(settings, app, app.event_count())
        return reasons + _behind_a_position(settings, end)
    finally:
        app.close()


def _behind_a_head(settings: Settings, app: CaseLog, held: int) -> list[str]:
    from services.audit.log import AuditLog, signing_key_path

    audit = AuditLog(settings, app)
    try:
        found = [Found(h, "in the store") for h in audit.heads()]
    finally:
        audit.close()
    found += HeadMirror(settings).read().found
    try:
        key = read_signer(signing_key_path(settings)).public_key
    except (OSError, SigningKeyError):
        return []  # no key, so no head can be told from a forged one
    top = newest(f for f in found if verify_head(key, f.head))
    if top is None or top.head.tree_size <= held:
        return []
    return [
        f"the newest signed tree head: the head signed on {signed_on(top.head)} "
        f"({top.where}) covers {top.head.tree_size} events, the log holds "
        f"{held}: restored from an older backup? Restore the newest backup of "
        "the log ('boende audit verify' names what is missing); a head is "
        "never re-signed on its own"
    ]


def _behind_a_position(settings: Settings, end: int) -> list[str]:
    """Every read model and the relay whose position is beyond ``end``."""
    from infra.schema_lock import schema_lock
    from infra.views import ViewStore
    from services.bootstrap import PROJECTIONS

    reasons = []
    for name in [p.name for p in PROJECTIONS] + ["relay"]:
        with schema_lock(settings):
            store = ViewStore(settings, name)
        try:
            position = store.position()
        finally:
            store.close()
        if position <= end:
            continue
        if name == "relay":
            reasons.append(
                f"the relay: it published up to position {position} to "
                f"boende.events, the log ends at position {end}: restored from "
                "an older backup? boende.events holds events this log does "
                "not: restore the newest backup of the log"
            )
        else:
            reasons.append(
                f"the read model {name}: it has read up to position {position}, "
                f"the log ends at position {end}: restored from an older "
                f"backup? Rebuild the read models from this log: {REBUILD}"
            )
    return reasons
