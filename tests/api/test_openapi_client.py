"""A committee service generates its client from ``/openapi.json`` (issue 10,
item 8): openapi-python-client (pinned in the dev extra) makes one function
per operation, the submission door included, whose body is the envelope's
union of event types and whose answers are typed models, and the generated
package imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.submission.envelope import SUBMISSION_TYPES

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "boende_client"
#: What the generator may warn about: the batch door also takes NDJSON (a
#: case system's file, sent as is), a content type it does not know; the
#: operation is generated with its JSON array body. (Overriding NDJSON to
#: bytes makes 0.29.1 write a body union that does not import.)
KNOWN_WARNINGS = {
    ("POST /v1/submissions/batch", "Unsupported content type application/x-ndjson")
}


def snake(operation_id: str) -> str:
    """The generator's module name for an operation id."""
    return re.sub(r"[^a-z0-9]+", "_", operation_id.lower()).strip("_")


def generate(document: dict[str, Any], where: Path) -> subprocess.CompletedProcess[str]:
    (where / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    # No post hooks: the generated code is not formatted (ruff is ours to run).
    (where / "config.yaml").write_text(
        f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"
        "post_hooks: []\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
    )


def imported(where: Path, code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter that finds the generated package."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=where,
        env={**os.environ, "PYTHONPATH": str(where)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_generated_client_has_every_operation_and_imports(
    client: TestClient, tmp_path: Path
) -> None:
    document = client.get("/openapi.json").json()
    operations = {
        operation["operationId"]: (method, path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert ("post", "/v1/submissions") in operations.values()

    made = generate(document, tmp_path)
    said = made.stdout + made.stderr
    assert made.returncode == 0, said
    # The generator skips what it cannot read with a warning, and exits 0.
    assert "will not be generated" not in said, said
    warnings = re.findall(r"WARNING parsing (\w+ \S+) within \w+\.\s+(.+)", said)
    assert set(warnings) <= KNOWN_WARNINGS, said
    assert said.count("WARNING") == len(warnings), said

    modules = {
        path.stem
        for path in (tmp_path / PACKAGE / "api").rglob("*.py")
        if path.stem != "__init__"
    }
    assert modules == {snake(operation_id) for operation_id in operations}

    submit = snake(
        next(o for o, at in operations.items() if at == ("post", "/v1/submissions"))
    )
    check = imported(tmp_path, INSPECT.format(package=PACKAGE, submit=submit))
    assert check.returncode == 0, check.stdout + check.stderr
    found = json.loads(check.stdout.splitlines()[-1])
    # Every operation a function to call, the submission door too.
    assert set(found["callable"]) == modules
    # The door's body: one generated model per event type of the envelope;
    # its answer: the recorded fact, or the error body.
    assert len(found["body"]) == len(SUBMISSION_TYPES)
    assert "ApplicationFiled" in found["body"]
    assert found["answer"] == ["Error", "SubmissionRecorded"]


#: Run in the generated package's interpreter: which operation modules have
#: a function to call, and the submission function's body and answer types.
INSPECT = """
import importlib, json, pkgutil, typing
api = importlib.import_module("{package}.api")
modules = {{
    info.name.rsplit(".", 1)[1]: importlib.import_module(info.name)
    for info in pkgutil.walk_packages(api.__path__, "{package}.api.")
}}
importlib.import_module("{package}.models")
submit = modules["{submit}"]
body = typing.get_type_hints(submit.sync_detailed)["body"]
answer = typing.get_type_hints(submit.sync)["return"]
print(json.dumps({{
    "callable": sorted(n for n, m in modules.items() if hasattr(m, "sync_detailed")),
    "body": sorted(t.__name__ for t in typing.get_args(body)),
    "answer": sorted(
        t.__name__ for t in typing.get_args(answer) if t is not type(None)
    ),
}}))
"""
