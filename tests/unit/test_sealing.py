"""Channel secrets sealed at rest: under CRONBASE_SECRET_KEY, or a private key file beside a
SQLite database, made once however many processes start at once."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cronbase.config import Settings
from cronbase.errors import ConfigurationError
from cronbase.notify.sealing import SecretBox, SecretUnreadable, box_for, key_from_file


def test_a_sealed_secret_opens_and_does_not_show_the_secret() -> None:
    box = box_for(Fernet.generate_key().decode(), None)
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert box.open(sealed) == "whsec_abc"


def test_a_replaced_key_still_opens_what_the_old_one_sealed_when_listed_second() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = box_for(old, None).seal("whsec_abc")
    assert box_for(f"{new},{old}", None).open(sealed) == "whsec_abc"
    with pytest.raises(SecretUnreadable, match="key changed"):
        box_for(new, None).open(sealed)


def test_without_a_key_or_a_sqlite_file_using_a_secret_says_what_to_set() -> None:
    box = box_for(None, None)
    with pytest.raises(ConfigurationError, match=r"CRONBASE_SECRET_KEY.*Fernet\.generate_key"):
        box.seal("whsec_abc")


def test_a_bad_secret_key_setting_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(ValueError, match="key 2 of CRONBASE_SECRET_KEY is not a Fernet key"):
        Settings(secret_key=f"{Fernet.generate_key().decode()},hunter2")


def test_the_key_file_is_made_once_private_and_kept(tmp_path: Path) -> None:
    database = tmp_path / "cronbase.db"
    box = box_for(None, database)
    key_file = tmp_path / "cronbase.db.key"
    assert not key_file.exists()  # made on first use only
    sealed = box.seal("whsec_abc")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert box_for(None, database).open(sealed) == "whsec_abc"  # another process, same key
    assert [p.name for p in tmp_path.iterdir()] == ["cronbase.db.key"]  # no temporary left


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "cronbase.db.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: key_from_file(path), range(32)))
    assert keys == {path.read_bytes().strip()}


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "cronbase.db.key").write_text("not a key")
    with pytest.raises(ConfigurationError, match=r"cronbase\.db\.key does not hold a Fernet key"):
        SecretBox(lambda: [key_from_file(tmp_path / "cronbase.db.key")]).seal("x")
