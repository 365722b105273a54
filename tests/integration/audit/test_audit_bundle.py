"""What an auditor takes away and checks alone, and what they fetch online.

An exported bundle verifies offline (on both engines' exports); a bundle
edited in any way — a line edited, dropped or moved, a head's root or
signature altered, the key swapped — fails with a message that says what.
Online, the proof endpoints answer RFC 9162 proofs that verify against the
signed heads with ``infra.merkle`` alone; and the signing key is private,
and a development key cannot sign in production.
"""

from __future__ import annotations

import base64
import json
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from infra import merkle
from infra.settings import Settings
from infra.signing import (
    DevelopmentKeyRefused,
    SignedTreeHead,
    SigningKeyError,
    canonical_json,
    load_or_create_signer,
    load_public_key,
    public_pem,
    public_raw_hex,
    verify_head,
)
from services.audit.bundle import BUNDLE_FORMAT
from services.audit.log import AuditLog, signing_key_path, stored_events
from services.audit.verdict import fingerprint
from services.bootstrap import Boende, bootstrap
from services.cli import audit as audit_cli
from services.http.app import create_app
from tests.integration.audit.test_tamper import record, some_facts


def signed_twice(boende: Boende, audit: AuditLog) -> None:
    """Twelve events, signed at 8 and at 12."""
    record(boende, some_facts("a", 4))
    audit.sign_head()
    record(boende, some_facts("b", 2))
    audit.sign_head()


def run(capsys: pytest.CaptureFixture[str], *argv: str, **kw: Any) -> Any:
    code = audit_cli.main(list(argv), kw.get("settings"))
    return code, capsys.readouterr().out


def test_an_exported_bundle_verifies_offline(
    boende: Boende,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    audit = AuditLog(store_settings, boende.app)
    signed_twice(boende, audit)
    audit.close()
    target = tmp_path / "bundle"

    code, out = run(capsys, "export", "--to", str(target), settings=store_settings)
    assert code == 0, out
    assert "signed a fresh tree head of 12 events first" in out
    assert "exported 12 events and 3 signed heads" in out
    boende.close()  # nothing running, no database needed from here on

    code, out = run(capsys, "verify-bundle", str(target))
    assert code == 0, out
    assert "12 events, 3 signed heads" in out
    assert "12 of 12 events covered by a signed head" in out
    assert "OK: all 12 events are as signed" in out
    manifest = json.loads((target / "bundle.json").read_text())
    assert manifest["format"] == BUNDLE_FORMAT
    assert manifest["event_count"] == 12 and manifest["signed_first"] is True


def test_export_refuses_a_directory_that_is_not_empty(
    sqlite_boende: Boende,
    sqlite_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "old.txt").write_text("keep me")
    code, out = run(capsys, "export", "--to", str(tmp_path), settings=sqlite_settings)
    assert code == 2 and "not an empty directory" in out


# -- a tampered bundle -------------------------------------------------------------


@pytest.fixture
def bundle(sqlite_boende: Boende, sqlite_settings: Settings, tmp_path: Path) -> Path:
    audit = AuditLog(sqlite_settings, sqlite_boende.app)
    signed_twice(sqlite_boende, audit)
    audit.close()
    target = tmp_path / "bundle"
    assert audit_cli.main(["export", "--to", str(target)], sqlite_settings) == 0
    return target


def edit_lines(bundle: Path, change: Callable[[list[bytes]], None]) -> None:
    path = bundle / "events.jsonl"
    lines = path.read_bytes().split(b"\n")[:-1]
    change(lines)
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def edit_heads(bundle: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    path = bundle / "tree_heads.json"
    heads = json.loads(path.read_text())
    change(heads["heads"])
    path.write_text(json.dumps(heads))


def rewrite_state(lines: list[bytes]) -> None:
    """Line 3 changed and written back in perfect canonical form."""
    event = json.loads(lines[2])
    state = base64.b64decode(event["state"]).replace(b"IFN", b"ALN")
    event["state"] = base64.b64encode(state).decode()
    lines[2] = canonical_json(event)


def add_a_space(lines: list[bytes]) -> None:
    lines[2] = lines[2].replace(b'"position":3', b'"position": 3')


def drop_line_five(lines: list[bytes]) -> None:
    del lines[4]


def swap_three_and_ten(lines: list[bytes]) -> None:
    lines[2], lines[9] = lines[9], lines[2]


def drop_the_last(lines: list[bytes]) -> None:
    del lines[-1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (rewrite_state, ["head 1 (8 events", "first difference is in lines 1..8"]),
        (add_a_space, ["line 3: position 3: not in canonical form"]),
        (drop_line_five, ["head 2 (12 events", "signed 12 lines; only 11 exist"]),
        (swap_three_and_ten, ["line 4: position 4 is not after 10 (out of order)"]),
        (drop_the_last, ["first difference is in lines 9..12"]),
    ],
)
def test_an_edited_events_file_fails(
    change: Callable[[list[bytes]], None],
    expected: list[str],
    bundle: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit_lines(bundle, change)
    code, out = run(capsys, "verify-bundle", str(bundle))
    assert code == 1
    assert "FAILED" in out
    for text in expected:
        assert text in out, out


def alter_root(heads: list[dict[str, Any]]) -> None:
    heads[0]["root_hash"] = "00" + heads[0]["root_hash"][2:]


def alter_signature(heads: list[dict[str, Any]]) -> None:
    signature = bytes.fromhex(heads[1]["signature"])
    heads[1]["signature"] = bytes([signature[0] ^ 1, *signature[1:]]).hex()


def drop_every_head(heads: list[dict[str, Any]]) -> None:
    heads.clear()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (alter_root, "head 1 (8 events"),
        (alter_signature, "head 2 (12 events"),
        (drop_every_head, "no signed tree heads"),
    ],
)
def test_an_edited_head_fails(
    change: Callable[[list[dict[str, Any]]], None],
    expected: str,
    bundle: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit_heads(bundle, change)
    code, out = run(capsys, "verify-bundle", str(bundle))
    assert code == 1
    assert expected in out, out
    if change is not drop_every_head:
        assert "signature does not verify" in out


def test_a_bundle_re_signed_with_another_key_fails_against_the_pinned_key(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever rewrites the events can sign new heads with a key of their
    own: only the published key, pinned by the auditor, catches that."""
    published = tmp_path / "published.pem"
    published.write_bytes((bundle / "public_key.pem").read_bytes())
    forger = load_or_create_signer(tmp_path / "forger.key", "development")
    edit_lines(bundle, drop_line_five)
    lines = (bundle / "events.jsonl").read_bytes().split(b"\n")[:-1]
    leaves = [merkle.leaf_hash(line) for line in lines]

    def re_sign(heads: list[dict[str, Any]]) -> None:
        for i, head in enumerate(heads):
            size = min(head["tree_size"], len(leaves))
            head["tree_size"], head["root_hash"] = (
                size,
                merkle.root(leaves[:size]).hex(),
            )
            heads[i] = forger.sign(SignedTreeHead.from_json(head).head).as_json()

    edit_heads(bundle, re_sign)
    (bundle / "public_key.pem").write_text(public_pem(forger.public_key))
    manifest = json.loads((bundle / "bundle.json").read_text())
    (bundle / "bundle.json").write_text(json.dumps({**manifest, "event_count": 11}))
    code, out = run(capsys, "verify-bundle", str(bundle))
    assert code == 0, out  # self-consistent: only the key's fingerprint tells
    assert "NOT PINNED: the bundle's own public_key.pem was trusted" in out
    assert fingerprint(forger.public_key) in out
    assert fingerprint(load_public_key(published.read_bytes())) not in out

    code, out = run(
        capsys, "verify-bundle", str(bundle), "--public-key", str(published)
    )
    assert code == 1
    assert "not the pinned" in out


def test_a_missing_file_is_named(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bundle / "tree_heads.json").unlink()
    code, out = run(capsys, "verify-bundle", str(bundle))
    assert code == 1
    assert "not a readable audit bundle" in out and "tree_heads.json" in out


# -- online: the proof endpoints -----------------------------------------------------


@pytest.fixture
def client(sqlite_boende: Boende) -> TestClient:
    return TestClient(create_app(sqlite_boende))


def test_a_leaf_table_altered_behind_boendes_back_is_named_not_a_bare_500(
    sqlite_boende: Boende,
) -> None:
    """A proof the signed leaf table cannot give: the auditor is told the
    table was altered and how to locate it, in the error table's shape."""
    record(sqlite_boende, some_facts("t", 90))  # more than one 64-leaf chunk
    AuditLog(sqlite_boende.settings, sqlite_boende.app).sign_head()
    audit = AuditLog(sqlite_boende.settings, sqlite_boende.app)
    with audit.store.transaction(commit=True) as sql:  # the tamperer
        sql.execute("DROP TRIGGER audit_leaves_no_delete")
        sql.execute("DELETE FROM audit_leaves WHERE leaf_index = 70")
    audit.close()
    with TestClient(create_app(sqlite_boende)) as fresh:  # another process, say
        refused = fresh.get("/v1/audit/proof/consistency", params={"from_size": 80})
    assert refused.status_code == 500
    assert refused.json()["error"] == "audit_log_inconsistent"
    assert "boende audit verify" in refused.json()["message"]


def test_tree_heads_are_signed_on_demand_with_the_published_key(
    client: TestClient, sqlite_boende: Boende
) -> None:
    assert client.get("/v1/audit/tree-head").json()["error"] == "not_found"
    record(sqlite_boende, some_facts("h", 2))

    created = client.post("/v1/audit/tree-heads")
    assert created.status_code == 201
    latest = client.get("/v1/audit/tree-head").json()
    assert latest == created.json()
    assert latest["tree_size"] == 4

    key = client.get("/v1/audit/public-key").json()
    public_key = load_public_key(key["public_key_pem"].encode())
    assert key["public_key_hex"] == public_raw_hex(public_key)
    assert verify_head(public_key, SignedTreeHead.from_json(latest))


def test_inclusion_and_consistency_proofs_verify_against_signed_heads(
    client: TestClient, sqlite_boende: Boende
) -> None:
    record(sqlite_boende, some_facts("p", 2))
    first = client.post("/v1/audit/tree-heads").json()
    record(sqlite_boende, some_facts("q", 3))
    second = client.post("/v1/audit/tree-heads").json()
    leaves = [merkle.leaf_hash(d) for _, d in stored_events(sqlite_boende.app)]

    for position in range(1, 11):
        proof = client.get(
            "/v1/audit/proof/inclusion", params={"position": position}
        ).json()
        assert proof["tree_size"] == 10 and proof["signed_head"] == second
        assert proof["leaf_hash"] == leaves[position - 1].hex()
        assert merkle.verify_inclusion(
            proof["leaf_index"],
            10,
            leaves[position - 1],
            [bytes.fromhex(h) for h in proof["audit_path"]],
            bytes.fromhex(second["root_hash"]),
        )

    consistency = client.get(
        "/v1/audit/proof/consistency", params={"from_size": 4, "to_size": 10}
    ).json()
    assert consistency["from_head"] == first and consistency["to_head"] == second
    assert merkle.verify_consistency(
        4,
        10,
        [bytes.fromhex(h) for h in consistency["proof"]],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
    )


def test_a_report_position_maps_to_a_signed_tree(
    client: TestClient, sqlite_boende: Boende
) -> None:
    """What an oversight report saw (its ``as_of_position``) as a tree size
    and root, provable against later heads with a consistency proof."""
    record(sqlite_boende, some_facts("t", 2))
    first = client.post("/v1/audit/tree-heads").json()
    record(sqlite_boende, some_facts("u", 1))
    audit = AuditLog(sqlite_boende.settings, sqlite_boende.app)
    assert audit.tree_at_position(4) == {
        "tree_size": 4,
        "root_hash": first["root_hash"],
        "signed": True,
    }
    later_report = audit.tree_at_position(5)  # not signed yet: from the store
    assert later_report["tree_size"] == 5 and not later_report["signed"]
    second = client.post("/v1/audit/tree-heads").json()
    proof = client.get("/v1/audit/proof/consistency", params={"from_size": 5}).json()
    assert merkle.verify_consistency(
        5,
        second["tree_size"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(later_report["root_hash"]),
        bytes.fromhex(second["root_hash"]),
    )
    audit.close()


def burn_positions(boende: Boende, count: int) -> None:
    """On PostgreSQL, leave a gap of ``count`` positions in the log, as
    rolled-back inserts do; SQLite's positions have none."""
    url = boende.settings.database_url
    if url is None:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT nextval(pg_get_serial_sequence('caselog_events', "
            "'notification_id')) FROM generate_series(1, %s)",
            [count],
        )


def test_reports_carry_the_log_they_came_from(boende: Boende) -> None:
    """Counts, flows and the quarterly report (JSON, CSV, public) name the
    tree of the events up to their ``as_of_position``; its root is the one
    the proof endpoints and the offline verifier compute for that size, and
    an inclusion proof of the last event verifies against it."""
    client = TestClient(create_app(boende))
    record(boende, some_facts("v", 3))
    burn_positions(boende, 5)
    last = record(boende, some_facts("w", 1))[-1]
    for runner in boende.runners:
        runner.catch_up()
    counts = client.get("/v1/oversight/counts").json()
    size, root = counts["tree_size"], counts["root_hash"]
    assert counts["as_of_position"] == last and size == 8
    leaves = [merkle.leaf_hash(d) for _, d in stored_events(boende.app)]
    assert root == merkle.root(leaves[:size]).hex()  # what the verifier computes

    answers = [
        client.get("/v1/oversight/counts", params={"public": "true"}).json(),
        client.get("/v1/oversight/flows", params={"from": "2021-01-01"}).json(),
        client.get("/v1/oversight/flows", params={"public": "true"}).json(),
        client.get("/v1/reports/unexecuted", params={"quarter": "2021Q2"}).json(),
        client.get(
            "/v1/reports/unexecuted", params={"quarter": "2021Q2", "public": "true"}
        ).json(),
    ]
    for body in answers:
        assert (body["as_of_position"], body["tree_size"], body["root_hash"]) == (
            last,
            size,
            root,
        )
    csv = client.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2021Q2"},
        headers={"Accept": "text/csv"},
    )
    assert csv.headers["x-tree-size"] == str(size)
    assert csv.headers["x-root-hash"] == root

    record(boende, some_facts("x", 1))  # the log goes on; a head signs it all
    head = client.post("/v1/audit/tree-heads").json()
    assert head["tree_size"] == size + 2
    proof = client.get(
        "/v1/audit/proof/inclusion", params={"position": last, "tree_size": size}
    ).json()
    assert proof["root_hash"] == root and proof["leaf_index"] == size - 1
    assert merkle.verify_inclusion(
        size - 1,
        size,
        leaves[size - 1],
        [bytes.fromhex(h) for h in proof["audit_path"]],
        bytes.fromhex(root),
    )
    consistency = client.get(
        "/v1/audit/proof/consistency", params={"from_size": size}
    ).json()
    assert merkle.verify_consistency(
        size,
        head["tree_size"],
        [bytes.fromhex(h) for h in consistency["proof"]],
        bytes.fromhex(root),
        bytes.fromhex(head["root_hash"]),
    )


def test_the_tree_at_any_position_is_a_few_lookups_and_always_right(
    boende: Boende,
) -> None:
    """Positions asked in any order, inside and between 64-leaf chunks, with
    part of the log signed (leaves from the leaf table) and part not (from
    the store), agree with the root over every leaf."""
    audit = AuditLog(boende.settings, boende.app)
    record(boende, some_facts("y", 50))
    audit.sign_head()
    burn_positions(boende, 3)
    record(boende, some_facts("z", 70))  # 240 leaves: chunk 2 all unsigned
    positions = [p for p, _ in stored_events(boende.app)]
    leaves = [merkle.leaf_hash(d) for _, d in stored_events(boende.app)]
    fresh = AuditLog(boende.settings, boende.app)  # another process, say
    asked = [positions[-1], 1, 0, 63, 64, 65, 100, 130, 99, 150, positions[200] - 1]
    for position in [*asked, *positions[::7]]:
        size = sum(p <= position for p in positions)
        expected = {"tree_size": size, "root_hash": merkle.root(leaves[:size]).hex()}
        assert audit.log_at(position) == expected, position
        assert fresh.log_at(position) == expected, position
    # a read model ahead of this store (fed from Kafka): no root rather than
    # the root of a shorter log under the read model's position
    assert audit.log_at(positions[-1] + 1) == {}
    audit.close()
    fresh.close()


def test_proofs_past_the_first_chunks_equal_proofs_over_every_signed_leaf(
    boende: Boende,
) -> None:
    """With several 64-leaf chunks signed over three heads, positions with a
    gap on PostgreSQL, and the cached tree asked for small sizes before large
    ones (so it grows between requests), every proof the endpoints answer is
    the one ``infra.merkle`` computes over every signed leaf; a second
    process (a fresh app) answers the same."""
    record(boende, some_facts("k", 40))
    clients = [TestClient(create_app(boende))]
    clients[0].post("/v1/audit/tree-heads")  # 80
    burn_positions(boende, 4)
    record(boende, some_facts("l", 45))
    clients[0].post("/v1/audit/tree-heads")  # 170
    record(boende, some_facts("m", 30))
    head = clients[0].post("/v1/audit/tree-heads").json()  # 230
    assert head["tree_size"] == 230
    positions = [p for p, _ in stored_events(boende.app)]
    leaves = [merkle.leaf_hash(d) for _, d in stored_events(boende.app)]
    clients.append(TestClient(create_app(boende)))  # another process, say
    asked = [(0, 5), (63, 64), (64, 80), (79, 80), (100, 170), (64, 129), (5, 230)]
    asked += [(i, size) for i, size in [(127, 128), (128, 129), (200, 230)]]
    for client in clients:
        for index, size in asked:
            proof = client.get(
                "/v1/audit/proof/inclusion",
                params={"position": positions[index], "tree_size": size},
            ).json()
            assert proof["leaf_index"] == index
            assert proof["leaf_hash"] == leaves[index].hex()
            assert proof["root_hash"] == merkle.root(leaves[:size]).hex()
            expected = merkle.inclusion_proof(index, leaves[:size])
            assert proof["audit_path"] == [h.hex() for h in expected], (index, size)
            first = index + 1
            consistency = client.get(
                "/v1/audit/proof/consistency",
                params={"from_size": first, "to_size": size},
            ).json()
            expected = merkle.consistency_proof(first, leaves[:size])
            assert consistency["proof"] == [h.hex() for h in expected], (first, size)
            assert consistency["from_root"] == merkle.root(leaves[:first]).hex()
            assert consistency["to_root"] == merkle.root(leaves[:size]).hex()


def test_proof_requests_outside_the_signed_log_are_refused(
    client: TestClient, sqlite_boende: Boende
) -> None:
    assert (
        client.get("/v1/audit/proof/inclusion", params={"position": 1}).json()["error"]
        == "not_found"
    )  # nothing signed yet
    record(sqlite_boende, some_facts("r", 2))
    client.post("/v1/audit/tree-heads")
    refusals = {
        ("inclusion", "position=99"): (404, "not_found"),
        ("inclusion", "position=0"): (422, "invalid_request"),
        ("inclusion", "position=3&tree_size=2"): (422, "invalid_request"),
        ("inclusion", "position=1&tree_size=5"): (422, "invalid_request"),
        ("consistency", "from_size=3&to_size=2"): (422, "invalid_request"),
        ("consistency", "from_size=1&to_size=9"): (422, "invalid_request"),
        ("consistency", "to_size=2"): (422, "invalid_request"),
    }
    for (kind, query), (status, code) in refusals.items():
        response = client.get(f"/v1/audit/proof/{kind}?{query}")
        assert (response.status_code, response.json()["error"]) == (status, code)


def test_the_running_api_signs_a_head_at_startup(sqlite_boende: Boende) -> None:
    with TestClient(create_app(sqlite_boende)) as client:
        deadline = time.monotonic() + 10
        while client.get("/v1/audit/tree-head").status_code == 404:
            assert time.monotonic() < deadline, "no head signed at startup"
            time.sleep(0.05)
        assert client.get("/v1/audit/tree-head").json()["tree_size"] == 0


# -- the signing key -----------------------------------------------------------------


def test_the_key_is_private_and_marked_with_its_origin(tmp_path: Path) -> None:
    path = signing_key_path(Settings(data_dir=tmp_path / "var"))
    signer = load_or_create_signer(path, "development")
    assert path == tmp_path / "var" / "keys" / "audit_signing.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "# generated-by: development" in path.read_text()
    assert signer.origin == "development"
    assert load_or_create_signer(path, "development").key_id == signer.key_id


def test_production_refuses_a_development_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit_signing.key"
    load_or_create_signer(path, "development")
    with pytest.raises(DevelopmentKeyRefused, match="generated by a development"):
        load_or_create_signer(path, "production")


def test_production_makes_or_accepts_a_key_of_its_own(tmp_path: Path) -> None:
    made = load_or_create_signer(tmp_path / "made.key", "production")
    assert made.origin == "production"
    provisioned = tmp_path / "provisioned.key"
    text = (tmp_path / "made.key").read_text()
    provisioned.write_text(text[text.index("-----BEGIN") :])  # plain PKCS#8 PEM
    assert load_or_create_signer(provisioned, "production").origin == "provisioned"


def test_a_damaged_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "audit_signing.key"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError):
        load_or_create_signer(path, "development")
    assert path.read_text() == "not a key"


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Boende]:
    settings = Settings(data_dir=tmp_path / "var", environment="production")
    load_or_create_signer(signing_key_path(settings), "development")
    running = bootstrap(settings)
    yield running
    running.close()


def test_the_api_will_not_start_in_production_with_a_development_key(
    production: Boende,
) -> None:
    with pytest.raises(DevelopmentKeyRefused), TestClient(create_app(production)):
        pass
