"""Encryption of the few fields that must hold full personal data until central acknowledges them.

Field-level Fernet (AES-128-CBC + HMAC-SHA256, from the maintained `cryptography` package) rather than an
encrypted database: the store stays a stock SQLite file whose WAL and FULL-sync settings we can check and
whose masked columns staff tools can read, while the full ID numbers exist only as ciphertext in the file,
its WAL and its backups, and are erased once central has answered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class StoreKeyError(Exception):
    """The store key is missing, unreadable or not the key the data was written with."""


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise StoreKeyError("the store key file does not hold a valid key") from exc

    def seal(self, value: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            return dict(json.loads(self._fernet.decrypt(token)))
        except InvalidToken:
            raise StoreKeyError("a queued request cannot be decrypted with this store key") from None


def load_or_create_key(path: Path) -> bytes:
    """Read the key, or create it (mode 0600, written atomically) on first use."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreKeyError(f"cannot read the store key {path}: {exc.strerror}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return key
