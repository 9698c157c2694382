"""Keyed pseudonyms for the identifiers shown outside the warehouse (the auditor's quality folder).

An id such as ``CX-25-0412`` is shown as ``ps_`` and 16 hex digits of its HMAC-SHA256 under a key
generated once per warehouse (``secrets``) and kept in ``audit.pseudonym_key``. The same id has
the same pseudonym in every run, so the auditor can follow a case across runs and ask someone
who may read the audit schema to look it up; an unkeyed hash would not protect it, since case
and respondent ids are short and guessable (hashing every CX-YY-NNNN takes a second).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

import duckdb

PREFIX = "ps_"


def key(connection: duckdb.DuckDBPyConnection) -> bytes:
    """The warehouse's pseudonym key, generated on first use (the first one stored wins)."""
    stored = connection.execute("SELECT key FROM audit.pseudonym_key ORDER BY created_at, key LIMIT 1").fetchall()
    if not stored:
        connection.execute(
            "INSERT INTO audit.pseudonym_key VALUES (?, ?)", [secrets.token_hex(32), datetime.now(UTC)]
        ).fetchall()
        stored = connection.execute("SELECT key FROM audit.pseudonym_key ORDER BY created_at, key LIMIT 1").fetchall()
    return bytes.fromhex(stored[0][0])


def pseudonym(secret: bytes, value: Any) -> str:
    """``value`` (as text) under the key: stable, and not reversible without the key."""
    return PREFIX + hmac.new(secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
