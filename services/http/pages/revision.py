"""Revision (``GET /oversikt/revision``, the auditors' page): the latest
signed tree head; *kontrollera en siffra*, a figure's tree size and root
hash from a printed report checked against that head with a consistency
proof; the access log with its filters; and the purge record.

Every answer is the audit API's own, got by calling its functions
(``services.http.proofs``, ``services.http.access``): the page proves no more
and no less than ``GET /v1/audit/proof/consistency`` does. A figure is
*verified* when the proof shows that the log of its tree size, with exactly
its root hash, is the beginning of the log the latest head signs, and that
head's signature is good under this installation's key.

``POST /oversikt/revision/signera`` signs a head now (as ``POST
/v1/audit/tree-heads``), so a report printed a minute ago can be checked at
once; a form with its CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra import merkle
from infra.signing import SignedTreeHead, verify_head
from services.audit.log import AuditLog
from services.audit.pages import DayPage
from services.errors import InvalidRequest, NotFoundError
from services.http import access, proofs
from services.http.authz import PAGES
from services.http.deps import FIRST_DAY, LAST_DAY, get_audit_log
from services.http.pages.web import CsrfToken, check_csrf, render

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/revision"
SIGN: Final = f"{PATH}/signera"
ROWS: Final = 50  # entries of the access log and the purge record per page
Text = Annotated[str | None, Query(max_length=80)]
Cursor = Annotated[int, Query(ge=0, le=2**62)]
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Check:
    """The outcome of checking one figure's ``tree_size`` and ``root_hash``."""

    tree_size: int
    root_hash: str
    verified: bool
    reason: str
    head_size: int | None = None
    proof_length: int | None = None
    log_root: str | None = None  # the root of the log's first tree_size events


@router.get(PATH)
def audit_page(
    request: Request,
    storlek: Text = None,
    rot: Text = None,
    arende: Annotated[str | None, Query(max_length=64)] = None,
    anvandare: Annotated[str | None, Query(max_length=256)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    efter: Cursor = 0,
    gallring_efter: Cursor = 0,
    signerat: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The head, a figure's check (when ``storlek`` and ``rot`` are given),
    the access log (filtered by case, user and UTC days) and the purges."""
    audit = get_audit_log(request)
    head = audit.latest_head()
    errors: list[str] = []
    check = None
    if storlek or rot:
        try:
            check = check_figure(request, audit, storlek or "", rot or "")
        except ValueError as error:
            errors.append(str(error))
    try:
        days = DayPage(_day(start, "Från"), _day(end, "Till"), efter, ROWS)
        if days.start and days.end and days.start > days.end:
            raise ValueError("”Från” får inte vara efter ”Till”.")
        log = access.access(
            request, days, case_id=arende or None, user=anvandare or None
        )
    except ValueError as error:
        errors.append(str(error))
        log = None
    purges = access.purges(
        request.app.state.boende, DayPage(None, None, gallring_efter, ROWS)
    )
    form = {
        "storlek": storlek or "",
        "rot": rot or "",
        "arende": arende or "",
        "anvandare": anvandare or "",
        "from": start or "",
        "to": end or "",
    }
    return render(
        request,
        "revision.html",
        title="Revision",
        status=422 if errors else 200,
        errors=errors,
        head=head.as_json() if head else None,
        head_valid=verify_head(audit.signer.public_key, head) if head else None,
        key_id=audit.signer.key_id,
        check=check,
        signed_now=signerat,
        form=form,
        log=log,
        purges=purges,
        next_log=_link(form, efter=log["next_after"])
        if log and log["next_after"]
        else None,
        next_purges=_link(form, gallring_efter=purges["next_after"])
        if purges["next_after"]
        else None,
    )


def check_figure(
    request: Request, audit: AuditLog, size_text: str, root_text: str
) -> Check:
    """The consistency proof (``proofs.consistency_proof``) from the figure's
    tree to the latest head's, checked here. ``ValueError`` (in Swedish) when
    the figure is not a tree size and a root hash."""
    size = _tree_size(size_text)
    root = root_text.strip().lower()
    if not _HEX.fullmatch(root):
        raise ValueError(
            "Rothashen ska vara 64 tecken (0 till 9 och a till f), "
            "som i rapportens sidfot."
        )
    head = audit.latest_head()
    if head is None:
        return Check(size, root, False, "no_head")
    if size > head.tree_size:
        return Check(size, root, False, "not_yet_signed", head.tree_size)
    try:
        proof = proofs.consistency_proof(audit, from_size=size, to_size=head.tree_size)
    except (InvalidRequest, NotFoundError):
        return Check(size, root, False, "not_yet_signed", head.tree_size)
    path = [bytes.fromhex(h) for h in proof["proof"]]
    consistent = merkle.verify_consistency(
        size, head.tree_size, path, bytes.fromhex(root), bytes.fromhex(head.root_hash)
    )
    signed = verify_head(audit.signer.public_key, head)
    if not signed:
        reason = "bad_signature"
    elif not consistent:
        reason = "different_root" if proof["from_root"] != root else "inconsistent"
    else:
        reason = "verified"
    return Check(
        size,
        root,
        consistent and signed,
        reason,
        head.tree_size,
        len(path),
        proof["from_root"],
    )


@router.post(SIGN)
def sign_now(
    request: Request,
    csrf_token: CsrfToken,
    storlek: Annotated[str, Form(max_length=80)] = "",
    rot: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Sign a tree head now, then back to the page, with the figure's check."""
    check_csrf(request, csrf_token)
    head: SignedTreeHead = get_audit_log(request).sign_head()
    query = {k: v for k, v in (("storlek", storlek), ("rot", rot)) if v}
    query["signerat"] = str(head.tree_size)
    return RedirectResponse(f"{PATH}?{urlencode(query)}", status_code=303)


def _tree_size(text: str) -> int:
    digits = text.replace(" ", "").replace("\u00a0", "")
    if not digits.isdigit() or len(digits) > 18:
        raise ValueError("Trädstorleken ska vara ett heltal, som i rapportens sidfot.")
    return int(digits)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"”{name}”: {text} är inget datum (ÅÅÅÅ-MM-DD).") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"”{name}”: välj en dag mellan {FIRST_DAY} och {LAST_DAY}.")
    return day


def _link(form: dict[str, str], **cursor: Any) -> str:
    """The page again, with the same filters and the next page's cursor."""
    query = {k: v for k, v in form.items() if v}
    query.update({k: str(v) for k, v in cursor.items()})
    return f"{PATH}?{urlencode(query)}"
