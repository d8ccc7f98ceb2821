"""Channel secrets encrypted at rest. A webhook's signing secret must stay readable (it signs
every attempt), so it cannot be hashed like an API token: it is sealed with Fernet
(AES-128-CBC and HMAC-SHA256, from the `cryptography` package) under a key the database does
not hold.

The key is CRONBASE_SECRET_KEY (Fernet keys, comma-separated: the first seals, every one
opens, so a key can be replaced without losing the secrets sealed under the old one). For the
embedded SQLite default with no key set, one is generated on first use into a file beside the
database (`cronbase.db.key`), private to its owner (0600) like the database file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cronbase.errors import ConfigurationError, CronbaseError

KEY_FILE_SUFFIX = ".key"
NO_KEY = (
    "channel secrets are encrypted with CRONBASE_SECRET_KEY, which is not set; set it to the "
    "output of `python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'` on every cronbase process"
)


class SecretUnreadable(CronbaseError):
    """A sealed secret that no configured key opens: the key was changed or lost."""


def parse_keys(text: str) -> list[bytes]:
    """The Fernet keys of a CRONBASE_SECRET_KEY value; ValueError naming a bad one."""
    keys = [part.strip().encode() for part in text.split(",") if part.strip()]
    if not keys:
        raise ValueError("CRONBASE_SECRET_KEY is empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                f"key {position} of CRONBASE_SECRET_KEY is not a Fernet key (32 bytes in "
                "URL-safe base64); make one with `python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'`"
            ) from None
    return keys


class SecretBox:
    """Seals and opens channel secrets. The keys are loaded on first use, so processes that
    never touch a channel need no key (and create no key file)."""

    def __init__(self, load_keys: Callable[[], list[bytes]]) -> None:
        self._load_keys = load_keys
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def of_keys(cls, keys: list[bytes]) -> SecretBox:
        return cls(lambda: keys)

    def _cipher(self) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = MultiFernet([Fernet(key) for key in self._load_keys()])
            return self._fernet

    def seal(self, secret: str) -> str:
        return self._cipher().encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._cipher().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "the channel's secret cannot be decrypted with the configured "
                "CRONBASE_SECRET_KEY (was the key changed?); rotate the channel's secret"
            ) from None


def box_for(secret_key: str | None, database_file: Path | None) -> SecretBox:
    """The box of this deployment: CRONBASE_SECRET_KEY if set, else a key file beside a SQLite
    database file; else every use raises ConfigurationError saying what to set."""
    if secret_key:
        keys = parse_keys(secret_key)
        return SecretBox.of_keys(keys)
    if database_file is not None:
        key_file = database_file.with_name(database_file.name + KEY_FILE_SUFFIX)
        return SecretBox(lambda: [key_from_file(key_file)])

    def missing() -> list[bytes]:
        raise ConfigurationError(NO_KEY)

    return SecretBox(missing)


def key_from_file(path: Path) -> bytes:
    """The key in `path`, made (0600) if the file does not exist yet. Safe when several
    processes start at once: the key is written to a private temporary file, then linked
    into place, which fails if another process got there first (its key is then read)."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, Fernet.generate_key() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise ConfigurationError(
            f"{path} does not hold a Fernet key; restore it, or set CRONBASE_SECRET_KEY"
        ) from None
    return key
