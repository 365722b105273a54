"""Every key Boende makes says which environment made it, and production
refuses, at start, each one a development process made: the pseudonym key
and the index key included, each on its own (README, key management)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import keyfiles
from infra.keys import (
    DevelopmentKeyRefused,
    KeyFileError,
    pseudonym,
    pseudonym_key,
    pseudonym_key_path,
)
from infra.settings import Settings
from services.bootstrap import bootstrap


def production(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, environment="production")


def started(settings: Settings) -> None:
    bootstrap(settings).close()


def test_the_pseudonym_key_says_who_made_it(tmp_path: Path) -> None:
    key = pseudonym_key(tmp_path, "development")
    text = pseudonym_key_path(tmp_path).read_text()
    assert keyfiles.origin_line("development") in text
    assert len(key) == 32 and pseudonym_key(tmp_path) == key  # read back the same
    assert pseudonym_key(tmp_path / "prod", "production") != key
    assert (
        "generated-by: production" in pseudonym_key_path(tmp_path / "prod").read_text()
    )


def test_production_refuses_a_development_pseudonym_key(tmp_path: Path) -> None:
    pseudonym_key(tmp_path, "development")
    with pytest.raises(DevelopmentKeyRefused, match=r"pseudonym\.key"):
        pseudonym_key(tmp_path, "production")


def test_a_pseudonym_key_of_the_first_format_is_still_read(tmp_path: Path) -> None:
    """32 raw bytes, as installations made it before the origin line: the
    same references as before (it carries no origin, so it counts as
    provisioned)."""
    raw = bytes(range(32))
    path = pseudonym_key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    assert pseudonym_key(tmp_path, "production") == raw
    assert pseudonym(raw, "c-1") == pseudonym(pseudonym_key(tmp_path), "c-1")


def test_a_damaged_pseudonym_key_is_an_error_in_either_format(tmp_path: Path) -> None:
    path = pseudonym_key_path(tmp_path)
    pseudonym_key(tmp_path)
    path.write_text(keyfiles.origin_line("production") + "bm90IGEga2V5\n")
    with pytest.raises(KeyFileError, match="no base64 32-byte key"):
        pseudonym_key(tmp_path, "production")


def test_production_will_not_start_with_a_development_pseudonym_key(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    started(production(data_dir))  # its own keys, made in production
    pseudonym_key_path(data_dir).unlink(missing_ok=True)
    pseudonym_key(data_dir, "development")  # a laptop's key copied in
    with pytest.raises(DevelopmentKeyRefused, match=r"pseudonym\.key"):
        started(production(data_dir))


def test_production_will_not_start_with_a_development_index_key_alone(
    tmp_path: Path,
) -> None:
    """The master key is production's own; only the index key beside it
    was made by a development process. That alone stops the start."""
    data_dir = tmp_path / "var"
    started(production(data_dir))
    laptop = tmp_path / "laptop"
    started(Settings(data_dir=laptop))
    index = data_dir / "keys" / "person_index.key"
    index.unlink()
    shutil.copy(laptop / "keys" / "person_index.key", index)
    assert "generated-by: production" in (data_dir / "keys" / "master.key").read_text()
    with pytest.raises(keyfiles.DevelopmentKeyRefused, match=r"person_index\.key"):
        started(production(data_dir))


def test_production_starts_with_its_own_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    started(production(data_dir))
    pseudonym_key(data_dir, "production")
    started(production(data_dir))  # and again, with every key there
