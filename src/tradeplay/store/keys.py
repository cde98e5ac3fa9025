"""API keys, encrypted at rest with Fernet; the key comes from ``TRADEPLAY_SECRET_KEY``.

The database holds only Fernet tokens, so a copy of it (a backup, a shared PostgreSQL) reveals
nothing without the environment variable. ``TRADEPLAY_SECRET_KEY`` may list several keys
separated by commas, newest first: new tokens use the first, any of them decrypts (rotation).

No message, log line or ``repr`` in this module ever contains a key, a secret or the Fernet key:
listings show a masked API key (its last four characters), errors name the stored key's *name*.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, select

from tradeplay.domain.errors import ConfigError, InputError, RejectedError, StateCorruptionError
from tradeplay.domain.values import require_utc
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once
from tradeplay.store.schema import api_keys

log = structlog.get_logger(__name__)

SECRET_KEY_ENV: Final = "TRADEPLAY_SECRET_KEY"
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SHOWN: Final = 4  # characters of an API key a listing shows
_MASKED_BELOW: Final = 12  # keys shorter than this are masked entirely


class KeyExistsError(RejectedError):
    """An API key is already stored under that name."""


class UnknownKeyError(RejectedError):
    """No API key is stored under that name."""


class SecretCipher:
    """Encrypts and decrypts text with the Fernet key(s) given; never shows them."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise ConfigError(f"{SECRET_KEY_ENV} is empty; create a key with `tradeplay keys init`")
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except (ValueError, TypeError):
            raise ConfigError(
                f"{SECRET_KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "create one with `tradeplay keys init`"
            ) from None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SecretCipher:
        """The cipher of ``environ[TRADEPLAY_SECRET_KEY]`` (pass ``os.environ``)."""
        keys = environ.get(SECRET_KEY_ENV)
        if not keys:
            raise ConfigError(
                f"{SECRET_KEY_ENV} is not set: API keys are encrypted with it. Create one with "
                f"`tradeplay keys init` and keep it outside the database and the deployment file"
            )
        return cls(keys)

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key, for the operator to put into ``TRADEPLAY_SECRET_KEY``."""
        return Fernet.generate_key().decode()

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str, what: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise StateCorruptionError(
                f"{what} cannot be decrypted: it was stored with another {SECRET_KEY_ENV} "
                "(or the stored value was changed)"
            ) from None

    def __repr__(self) -> str:
        return "SecretCipher(<hidden>)"


def mask(api_key: str) -> str:
    """``****WXYZ``: enough to tell keys apart, nothing to use."""
    if len(api_key) < _MASKED_BELOW:
        return "****"
    return "****" + api_key[-_SHOWN:]


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """A decrypted key pair, for the venue client only. Its ``repr`` shows the masked key."""

    name: str
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"ApiCredentials(name={self.name!r}, api_key={mask(self.api_key)!r})"


@dataclass(frozen=True, slots=True)
class StoredKey:
    """What ``tradeplay keys list`` shows of a stored key."""

    name: str
    masked_key: str
    created_at: datetime


class KeyRing:
    """The encrypted API keys in the state database."""

    def __init__(self, begin: Begin, cipher: SecretCipher) -> None:
        self._begin = begin
        self._cipher = cipher

    def add(self, name: str, api_key: str, api_secret: str, time: datetime) -> StoredKey:
        """Store a key pair under ``name``; :class:`KeyExistsError` if the name is taken."""
        _check_name(name)
        require_utc(time, f"API key {name} time")
        if not api_key.strip() or not api_secret.strip():
            raise InputError(f"API key {name}: both the key and the secret must be given")
        row = {
            "name": name,
            "api_key": self._cipher.encrypt(api_key),
            "api_secret": self._cipher.encrypt(api_secret),
            "created_at": time,
        }
        with self._begin() as connection:
            if not insert_once(connection, api_keys, row, ("name",)):
                raise KeyExistsError(
                    f"an API key named {name!r} is already stored; remove it first to replace it"
                )
        log.info("api_key_added", name=name, api_key=mask(api_key))
        return StoredKey(name, mask(api_key), time)

    def list(self) -> list[StoredKey]:
        """Every stored key by name, masked."""
        query = select(api_keys.c.name, api_keys.c.api_key, api_keys.c.created_at)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(api_keys.c.name)).all()
        return [
            StoredKey(
                row.name,
                mask(self._cipher.decrypt(row.api_key, f"API key {row.name}")),
                row.created_at,
            )
            for row in rows
        ]

    def remove(self, name: str) -> None:
        """Forget the key pair ``name``; :class:`UnknownKeyError` if there is none."""
        with self._begin() as connection:
            removed = connection.execute(delete(api_keys).where(api_keys.c.name == name)).rowcount
        if not removed:
            raise UnknownKeyError(f"no API key named {name!r} is stored")
        log.info("api_key_removed", name=name)

    def reveal(self, name: str) -> ApiCredentials:
        """The decrypted pair, for building a venue client."""
        query = select(api_keys).where(api_keys.c.name == name)
        with self._begin() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise UnknownKeyError(
                f"no API key named {name!r} is stored; add it with `tradeplay keys add`"
            )
        what = f"API key {name}"
        return ApiCredentials(
            name,
            self._cipher.decrypt(row.api_key, what),
            self._cipher.decrypt(row.api_secret, what),
        )


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InputError(
            f"API key name {name!r}: use 1 to 64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
