"""Settings that would make cronbase unsafe are refused before anything starts."""

from __future__ import annotations

import pydantic
import pytest

from cronbase.config import Settings


@pytest.mark.parametrize("secret", ["x", "s" * 31, "é" * 15])
def test_a_jwt_secret_shorter_than_32_bytes_is_refused_naming_the_setting(secret: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=r"CRONBASE_JWT_SECRET .* at least 32"):
        Settings(jwt_secret=secret)


def test_a_jwt_secret_of_32_bytes_is_taken_and_an_empty_one_means_none() -> None:
    assert Settings(jwt_secret="é" * 16).jwt_secret == "é" * 16  # 32 bytes in UTF-8
    assert Settings(jwt_secret="").jwt_secret is None


def test_the_jwt_lifetime_cap_defaults_to_a_day_and_must_be_positive() -> None:
    assert Settings().jwt_max_ttl_seconds == 86400
    with pytest.raises(pydantic.ValidationError, match="jwt_max_ttl_seconds"):
        Settings(jwt_max_ttl_seconds=0)


def test_an_empty_environment_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRONBASE_OVERDUE_CHECK_SECONDS", "")
    monkeypatch.setenv("CRONBASE_WORKER_CONCURRENCY", "")
    monkeypatch.setenv("CRONBASE_WORKER_MAX_SLEEP_SECONDS", "2.5")
    settings = Settings()
    assert settings.overdue_check_seconds == Settings.model_fields["overdue_check_seconds"].default
    assert settings.worker_concurrency == 4
    assert settings.worker_max_sleep_seconds == 2.5  # a set one is still read


def test_an_empty_database_url_is_refused_not_a_sqlite_file_made_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`CRONBASE_DATABASE_URL=${DATABASE_URL}` with DATABASE_URL unset: the command stops,
    naming the variable, rather than each process using a SQLite file of its own in its
    working directory (which `cronbase migrate` would then create, and serve run against)."""
    monkeypatch.setenv("CRONBASE_DATABASE_URL", "")
    with pytest.raises(pydantic.ValidationError, match="CRONBASE_DATABASE_URL must start with"):
        Settings()
