"""The bundle says what it proves, and nothing more (issue 12, item 7).

On a real SQLite file and a real PostgreSQL database: ``export`` signs a
fresh head first, so a fresh bundle has every event covered; with
``--no-sign`` the events after the last head are exported too, and
``verify-bundle`` reports them as not proven — a non-zero exit unless
``--allow-unsigned-tail``, and never "OK" about them, edited, deleted or
untouched. A head of 0 events proves nothing. The key is named pinned or
trusted-as-found, with its fingerprint. ``show`` prints events for people
with the applicant still sealed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.settings import Settings
from infra.signing import canonical_json, public_pem
from services.audit.log import AuditLog
from services.audit.verdict import fingerprint
from services.bootstrap import Boende
from services.cli import audit as audit_cli
from services.submission.examples import EXAMPLE_PERSONNUMMER, PAYLOADS
from tests.integration.audit.test_tamper import record, some_facts

APPLICANT_NAME = PAYLOADS["application_filed"]["applicant"]["name"]


def run(capsys: pytest.CaptureFixture[str], settings: Settings, *argv: str) -> Any:
    code = audit_cli.main(list(argv), settings)
    return code, capsys.readouterr().out


def export(
    capsys: pytest.CaptureFixture[str], settings: Settings, target: Path, *extra: str
) -> str:
    code, out = run(capsys, settings, "export", "--to", str(target), *extra)
    assert code == 0, out
    return str(out)


@pytest.fixture
def eight_signed_four_not(boende: Boende, store_settings: Settings) -> Boende:
    """Eight events under a head, then four recorded after it."""
    audit = AuditLog(store_settings, boende.app)
    record(boende, some_facts("a", 4))
    assert audit.sign_head().tree_size == 8
    audit.close()
    record(boende, some_facts("b", 2))
    return boende


def test_export_signs_first_so_a_fresh_bundle_covers_every_event(
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = export(capsys, store_settings, tmp_path / "b")
    assert "signed a fresh tree head of 12 events first" in out
    assert "exported 12 events and 2 signed heads" in out

    code, out = run(capsys, store_settings, "verify-bundle", str(tmp_path / "b"))
    assert code == 0, out
    assert "12 of 12 events covered by a signed head" in out
    assert "OK: all 12 events are as signed" in out
    assert "NOT PROVEN" not in out


def test_no_sign_leaves_the_tail_unproven_and_says_so(
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = export(capsys, store_settings, tmp_path / "b", "--no-sign")
    assert "not signing first (--no-sign): 4 events" in out
    assert "exported 12 events and 1 signed heads" in out
    manifest = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert manifest["signed_first"] is False

    code, out = run(capsys, store_settings, "verify-bundle", str(tmp_path / "b"))
    assert code == 1, out
    assert "8 of 12 events covered by a signed head" in out
    assert "OK: the first 8 events are as signed" in out
    assert "NOT PROVEN: the last 4 events (positions 9..12)" in out
    assert "FAILED: 4 events are covered by no signed head" in out
    assert "OK: all" not in out

    allowed = "--allow-unsigned-tail"
    code, out = run(
        capsys, store_settings, "verify-bundle", str(tmp_path / "b"), allowed
    )
    assert code == 0, out
    assert "NOT PROVEN: the last 4 events" in out and "OK: all" not in out
    assert "accepted unproven" in out


def edit_line(bundle: Path, index: int, change: Callable[[bytes], bytes]) -> None:
    """Line ``index`` rewritten in perfect canonical form."""
    path = bundle / "events.jsonl"
    lines = path.read_bytes().split(b"\n")[:-1]
    event = json.loads(lines[index])
    event["state"] = base64.b64encode(change(base64.b64decode(event["state"])))
    event["state"] = event["state"].decode()
    lines[index] = canonical_json(event)
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def delete_line(bundle: Path, index: int) -> None:
    path = bundle / "events.jsonl"
    lines = path.read_bytes().split(b"\n")[:-1]
    del lines[index]
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def to_aln(state: bytes) -> bytes:
    return state.replace(b'"IFN"', b'"ALN"')


@pytest.mark.parametrize("allow", [[], ["--allow-unsigned-tail"]])
def test_a_tail_edited_after_the_last_head_is_never_ok(
    allow: list[str],
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle, "--no-sign")
    edit_line(bundle, 10, to_aln)  # position 11: after the last head

    code, out = run(capsys, store_settings, "verify-bundle", str(bundle), *allow)
    assert code == (0 if allow else 1), out
    assert "NOT PROVEN: the last 4 events (positions 9..12)" in out
    assert "OK: all" not in out  # nothing vouches for line 11, so no OK for it


@pytest.mark.parametrize("last", [False, True])
def test_a_tail_line_deleted_fails(
    last: bool,
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle, "--no-sign")
    delete_line(bundle, 11 if last else 9)

    allowed = "--allow-unsigned-tail"
    code, out = run(capsys, store_settings, "verify-bundle", str(bundle), allowed)
    assert code == 1, out
    assert "FAILED" in out
    assert "bundle.json lists 12 events; events.jsonl holds 11" in out


def test_the_last_line_deleted_from_a_signed_bundle_fails(
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The manifest is not signed: put right by hand, the head still fails."""
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle)
    delete_line(bundle, 11)
    manifest = json.loads((bundle / "bundle.json").read_text())
    (bundle / "bundle.json").write_text(json.dumps({**manifest, "event_count": 11}))

    code, out = run(capsys, store_settings, "verify-bundle", str(bundle))
    assert code == 1, out
    assert "head 2 (12 events" in out and "only 11 exist" in out
    assert "8 of 11 events covered by a signed head that verifies" in out
    assert "OK" not in out


def test_a_head_of_no_events_proves_nothing(
    boende: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh server signs a head of 0 events; then events come."""
    audit = AuditLog(store_settings, boende.app)
    assert audit.sign_head().tree_size == 0
    audit.close()
    empty = tmp_path / "empty"
    export(capsys, store_settings, empty, "--no-sign")
    record(boende, some_facts("a", 2))
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle, "--no-sign")

    code, out = run(capsys, store_settings, "verify-bundle", str(empty))
    assert code == 1, out
    assert "0 of 0 events covered" in out and "nothing is proven" in out
    for allow in ([], ["--allow-unsigned-tail"]):
        code, out = run(capsys, store_settings, "verify-bundle", str(bundle), *allow)
        assert code == 1, out
        assert "0 of 4 events covered by a signed head" in out
        assert "head(s) of 0 events cover no event and prove nothing" in out
        assert "NOT PROVEN: no signed head covers any of the 4 events" in out
        assert "OK" not in out


def test_the_key_is_named_trusted_or_pinned_with_its_fingerprint(
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle)
    code, published = run(capsys, store_settings, "public-key")
    assert code == 0
    key_file = tmp_path / "published.pem"
    key_file.write_text(published)  # comment lines, then the PEM: still a key
    audit = AuditLog(store_settings, eight_signed_four_not.app)
    key = audit.signer.public_key
    audit.close()
    assert f"# fingerprint: {fingerprint(key)}\n" in published
    assert public_pem(key) in published
    assert len(fingerprint(key).split()) == 16  # SHA-256, hex, in fours

    code, out = run(capsys, store_settings, "verify-bundle", str(bundle))
    assert code == 0, out
    assert "NOT PINNED: the bundle's own public_key.pem was trusted as found" in out
    assert f"fingerprint {fingerprint(key)}" in out

    pinned = ["--public-key", str(key_file)]
    code, out = run(capsys, store_settings, "verify-bundle", str(bundle), *pinned)
    assert code == 0, out
    assert f"key: pinned (--public-key {key_file}); fingerprint" in out
    assert "NOT PINNED" not in out and "trusted as found" not in out


def test_bad_input_is_a_clear_error_not_a_traceback(
    sqlite_boende: Boende,
    sqlite_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello")
    argv = ["verify-bundle", str(tmp_path), "--public-key", str(not_a_key)]
    code, out = run(capsys, sqlite_settings, *argv)
    assert code == 2 and "cannot read the key given with --public-key" in out
    code, out = run(capsys, sqlite_settings, "verify-bundle", str(tmp_path / "none"))
    assert code == 1 and "not a readable audit bundle" in out
    code = audit_cli.main(["show", str(tmp_path / "none")], sqlite_settings)
    assert code == 2 and "cannot read the bundle's events" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tree_heads.json", "[1, 2]"),
        ("tree_heads.json", '{"heads": "abc"}'),
        ("tree_heads.json", "[" * 100_000),
        ("bundle.json", "not json"),
        (
            "public_key.pem",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ),
        ("events.jsonl", '{"position": 1}\nnot json\n'),
    ],
)
def test_a_damaged_bundle_is_named_never_a_traceback(
    name: str,
    text: str,
    sqlite_boende: Boende,
    sqlite_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record(sqlite_boende, some_facts("a", 1))
    bundle = tmp_path / "b"
    export(capsys, sqlite_settings, bundle)
    (bundle / name).write_text(text)
    code, out = run(capsys, sqlite_settings, "verify-bundle", str(bundle))
    assert code == 1 and "FAILED" in out and "OK" not in out
    code, out = run(capsys, sqlite_settings, "show", str(bundle))
    if name == "events.jsonl":
        assert code == 1 and "line 1: not a readable event" in out
        assert "line 2: not a readable event" in out
    else:
        assert code == 0


def test_show_prints_events_for_people_with_the_applicant_sealed(
    eight_signed_four_not: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "b"
    export(capsys, store_settings, bundle)

    code, out = run(capsys, store_settings, "show", str(bundle))
    assert code == 0, out
    assert out.count("\nposition ") == 12
    assert "position 1  application_filed\n" in out
    assert "  aggregate   case a-0, " in out
    assert "  occurred    2021-03-15\n" in out
    assert "  actor       IFN / handlaggare-17\n" in out
    assert "    decision_id   IFN-2021-311\n" in out
    assert "    applicant   sealed (AES-256-GCM, key " in out
    assert "Read, not verified" in out
    for personal in (EXAMPLE_PERSONNUMMER, EXAMPLE_PERSONNUMMER.replace("-", "")):
        assert personal not in out
    assert APPLICANT_NAME not in out

    code, one = run(capsys, store_settings, "show", str(bundle), "--position", "1")
    assert code == 0 and one.count("\nposition ") == 1
    ciphertext = json.loads(
        base64.b64decode(
            json.loads((bundle / "events.jsonl").read_bytes().split(b"\n")[0])["state"]
        )
    )["applicant"]["ciphertext"]
    assert ciphertext in one  # in full for one event, still sealed
    assert APPLICANT_NAME not in one

    code, out = run(capsys, store_settings, "show", str(bundle), "--position", "99")
    assert code == 1 and "no event at position 99" in out
