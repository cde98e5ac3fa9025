"""API keys: encrypted at rest, masked in listings, and never in clear in the database, the logs,
an error message or a ``repr``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from tests.store.builders import at
from tradeplay.domain.errors import ConfigError, InputError, StateCorruptionError
from tradeplay.logs import configure_logging
from tradeplay.settings import LogFormat
from tradeplay.store import (
    SECRET_KEY_ENV,
    Database,
    KeyExistsError,
    KeyRing,
    SecretCipher,
    StoredKey,
    UnknownKeyError,
)
from tradeplay.store.schema import api_keys

API_KEY = "AKEYpublicPART9f3xWXYZ"
API_SECRET = "sEcReT-0123456789-abcdefghijklmnop"
FERNET = SecretCipher.generate_key()
NEEDLES = (API_KEY, API_SECRET, FERNET, API_SECRET[:12], API_KEY[:12])
"""What must never show: the key, the secret, the Fernet key, nor a telling part of them."""


@pytest.fixture
def cipher() -> SecretCipher:
    return SecretCipher.from_environment({SECRET_KEY_ENV: FERNET})


@pytest.fixture
def keys(database: Database, cipher: SecretCipher) -> KeyRing:
    return KeyRing(database.transaction, cipher)


def _assert_hidden(text: str) -> None:
    for needle in NEEDLES:
        assert needle not in text


def test_add_list_reveal_and_remove(keys: KeyRing) -> None:
    added = keys.add("bybit-demo", API_KEY, API_SECRET, at(0))
    assert added == StoredKey("bybit-demo", "****WXYZ", at(0))
    assert keys.list() == [added]
    revealed = keys.reveal("bybit-demo")
    assert (revealed.api_key, revealed.api_secret) == (API_KEY, API_SECRET)
    keys.remove("bybit-demo")
    assert keys.list() == []


def test_a_name_is_taken_once_and_an_unknown_name_is_reported(keys: KeyRing) -> None:
    keys.add("bybit-demo", API_KEY, API_SECRET, at(0))
    with pytest.raises(KeyExistsError, match="'bybit-demo' is already stored"):
        keys.add("bybit-demo", "other-key-000000", "other-secret", at(1))
    with pytest.raises(UnknownKeyError, match="'bybit-live'"):
        keys.remove("bybit-live")
    with pytest.raises(UnknownKeyError, match="'bybit-live'"):
        keys.reveal("bybit-live")


def test_bad_names_and_empty_secrets_are_refused_without_echoing_the_secret(
    keys: KeyRing,
) -> None:
    with pytest.raises(InputError, match="API key name 'bad name'"):
        keys.add("bad name", API_KEY, API_SECRET, at(0))
    with pytest.raises(InputError) as caught:
        keys.add("bybit-demo", API_KEY, "  ", at(0))
    _assert_hidden(str(caught.value))


def test_the_database_holds_no_secret_in_clear(
    keys: KeyRing, database: Database, tmp_path: Path
) -> None:
    keys.add("bybit-demo", API_KEY, API_SECRET, at(0))
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    _assert_hidden(repr(rows))
    # SQLite: the bytes on disk, write-ahead log included, not only what SQL shows.
    for path in tmp_path.glob("state.sqlite3*"):
        for needle in NEEDLES:
            assert needle.encode() not in path.read_bytes()


def test_logs_never_show_a_secret(keys: KeyRing) -> None:
    stream = io.StringIO()
    configure_logging("debug", LogFormat.json, stream)
    keys.add("bybit-demo", API_KEY, API_SECRET, at(0))
    keys.list()
    keys.reveal("bybit-demo")
    keys.remove("bybit-demo")
    logged = stream.getvalue()
    assert "api_key_added" in logged
    assert "****WXYZ" in logged
    _assert_hidden(logged)


def test_reprs_never_show_a_secret(keys: KeyRing, cipher: SecretCipher) -> None:
    keys.add("bybit-demo", API_KEY, API_SECRET, at(0))
    revealed = keys.reveal("bybit-demo")
    assert "****WXYZ" in repr(revealed)
    _assert_hidden(repr(revealed) + str(revealed) + repr(cipher) + repr(keys.list()))


def test_the_wrong_secret_key_fails_by_name_not_by_value(database: Database) -> None:
    stored_with = SecretCipher(FERNET)
    KeyRing(database.transaction, stored_with).add("bybit-demo", API_KEY, API_SECRET, at(0))
    other = KeyRing(database.transaction, SecretCipher(SecretCipher.generate_key()))
    with pytest.raises(StateCorruptionError, match="API key bybit-demo cannot be decrypted") as e:
        other.reveal("bybit-demo")
    _assert_hidden(str(e.value))


def test_a_rotated_secret_key_still_reads_old_keys(database: Database) -> None:
    KeyRing(database.transaction, SecretCipher(FERNET)).add("k", API_KEY, API_SECRET, at(0))
    rotated = SecretCipher(f"{SecretCipher.generate_key()},{FERNET}")
    assert KeyRing(database.transaction, rotated).reveal("k").api_secret == API_SECRET


def test_a_missing_or_malformed_secret_key_is_a_config_error_that_hides_it() -> None:
    with pytest.raises(ConfigError, match=f"{SECRET_KEY_ENV} is not set"):
        SecretCipher.from_environment({})
    malformed = API_SECRET + "-not-base64"
    with pytest.raises(ConfigError, match="is not a Fernet key") as caught:
        SecretCipher.from_environment({SECRET_KEY_ENV: malformed})
    assert malformed not in str(caught.value)
    _assert_hidden(str(caught.value))


def test_database_errors_never_carry_the_values_written(database: Database) -> None:
    """A failing statement's message shows the SQL, not its parameters."""
    row = {"name": "dup", "api_key": API_KEY, "api_secret": API_SECRET, "created_at": at(0)}
    with database.engine.begin() as connection:
        connection.execute(insert(api_keys).values(**row))
        with pytest.raises(DBAPIError) as caught:
            connection.execute(insert(api_keys).values(**row))
        connection.rollback()
    _assert_hidden(str(caught.value))
