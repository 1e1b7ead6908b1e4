"""The SQLite store: schema and every SQL statement the server runs.

Correctness across worker processes comes from SQLite, not from locks in
Python: every state change runs in one `BEGIN IMMEDIATE` transaction, which
takes the database's write lock before the first read, so check-then-insert
sequences (count seats, then grant one) are serialised across processes.
WAL mode lets readers (readiness, metrics) run alongside.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from .group_commit import GroupCommit

BUSY_TIMEOUT_SECONDS = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    metadata TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    license_type TEXT NOT NULL,
    max_floating_users INTEGER,
    floating_timeout_minutes INTEGER NOT NULL,
    require_heartbeat INTEGER NOT NULL,
    metadata TEXT,
    created_at REAL NOT NULL,
    UNIQUE (product_id, code)
);
CREATE TABLE IF NOT EXISTS licenses (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    policy_id TEXT NOT NULL REFERENCES policies(id),
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL DEFAULT '',
    key_last4 TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    entitlement_version INTEGER NOT NULL,
    customer_id TEXT, order_id TEXT, subscription_id TEXT,
    customer_email TEXT, customer_name TEXT,
    starts_at REAL, expires_at REAL, maintenance_expires_at REAL,
    metadata TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    token TEXT PRIMARY KEY,
    license_id TEXT NOT NULL REFERENCES licenses(id),
    device_id TEXT NOT NULL,
    identity TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS leases_open ON leases (license_id, identity) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS leases_ended ON leases (ended_at) WHERE ended_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, endpoint, key)
);
CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency (created_at);
"""


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    code: str
    metadata: dict[str, Any] | None
    created_at: float


@dataclass(frozen=True)
class Policy:
    id: str
    product_id: str
    name: str
    code: str
    license_type: str
    max_floating_users: int | None
    floating_timeout_minutes: int
    require_heartbeat: bool
    metadata: dict[str, Any] | None
    created_at: float


@dataclass(frozen=True)
class License:
    id: str
    product_id: str
    policy_id: str
    key_hash: str
    status: str
    entitlement_version: int
    customer_id: str | None
    order_id: str | None
    subscription_id: str | None
    customer_email: str | None
    customer_name: str | None
    starts_at: float | None
    expires_at: float | None
    maintenance_expires_at: float | None
    metadata: dict[str, Any] | None
    created_at: float
    updated_at: float
    key_prefix: str = ""  # the raw key's first characters and last four, shown to
    key_last4: str = ""  # tell keys apart (the key itself is only stored hashed)


@dataclass(frozen=True)
class Lease:
    token: str
    license_id: str
    device_id: str
    identity: str
    issued_at: float
    expires_at: float
    ended_at: float | None = None
    end_reason: str | None = None


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str
    endpoint: str
    key: str
    fingerprint: str
    status: int
    data: Any
    created_at: float


Row = TypeVar("Row", Product, Policy, License, Lease)
_JSON_COLUMNS = {"metadata", "data"}


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A row class's field names, computed once (dataclasses.fields is slow for a per-row call)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


#: Columns whose stored text is JSON, and the one stored as an integer but read as a bool.
_CONVERTED = {"metadata": "json", "data": "json", "require_heartbeat": "bool"}


def columns(cls: type) -> str:
    """The column list that selects a row class's fields in field order (`SELECT {columns(Lease)} ...`):
    rows are then built by position, not by a name lookup per field."""
    listed = _COLUMNS.get(cls)
    if listed is None:
        listed = _COLUMNS[cls] = ", ".join(_names(cls))
    return listed


_COLUMNS: dict[type, str] = {}


_CONVERSIONS: dict[type, tuple[tuple[int, str], ...]] = {}


def _conversions(cls: type) -> tuple[tuple[int, str], ...]:
    found = _CONVERSIONS.get(cls)
    if found is None:
        found = _CONVERSIONS[cls] = tuple((i, _CONVERTED[n]) for i, n in enumerate(_names(cls)) if n in _CONVERTED)
    return found


def _to_row(cls: type[Row], row: sqlite3.Row | None) -> Row | None:
    """A row class from a row selected with `columns(cls)`."""
    if row is None:
        return None
    values = list(row)
    for i, kind in _conversions(cls):
        v = values[i]
        if kind == "bool":
            values[i] = bool(v)
        elif v is not None:
            values[i] = json.loads(v)
    return cls(*values)


def _params(obj: Any) -> dict[str, Any]:
    out = {name: getattr(obj, name) for name in _names(type(obj))}
    for name in _JSON_COLUMNS.intersection(out):
        if out[name] is not None:
            out[name] = json.dumps(out[name], ensure_ascii=False)
    return out


_INSERTS: dict[tuple[str, type], str] = {}


def _insert(conn: sqlite3.Connection, table: str, obj: Any) -> None:
    sql = _INSERTS.get((table, type(obj)))
    if sql is None:
        names = _names(type(obj))
        marks = ", ".join(f":{c}" for c in names)
        sql = _INSERTS[(table, type(obj))] = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
    conn.execute(sql, _params(obj))


class Tx:
    """The SQL of one transaction; obtained from `Store.write()` or `Store.read()`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, args).fetchone()
        return row

    # -------------------------------------------------------------- catalogue
    def product(self, product_id: str) -> Product | None:
        return _to_row(Product, self._one(f"SELECT {columns(Product)} FROM products WHERE id = ?", product_id))

    def product_code_taken(self, code: str) -> bool:
        return self._one("SELECT 1 FROM products WHERE code = ?", code) is not None

    def insert_product(self, product: Product) -> None:
        _insert(self.conn, "products", product)

    def policy(self, policy_id: str) -> Policy | None:
        return _to_row(Policy, self._one(f"SELECT {columns(Policy)} FROM policies WHERE id = ?", policy_id))

    def policy_code_taken(self, product_id: str, code: str) -> bool:
        return self._one("SELECT 1 FROM policies WHERE product_id = ? AND code = ?", product_id, code) is not None

    def insert_policy(self, policy: Policy) -> None:
        _insert(self.conn, "policies", policy)

    def license(self, license_id: str) -> License | None:
        return _to_row(License, self._one(f"SELECT {columns(License)} FROM licenses WHERE id = ?", license_id))

    def license_by_key_hash(self, key_hash: str) -> License | None:
        return _to_row(License, self._one(f"SELECT {columns(License)} FROM licenses WHERE key_hash = ?", key_hash))

    def insert_license(self, lic: License) -> None:
        _insert(self.conn, "licenses", lic)

    def set_license_status(self, license_id: str, status: str, now: float) -> None:
        self.conn.execute(
            "UPDATE licenses SET status = ?, entitlement_version = entitlement_version + 1, updated_at = ?"
            " WHERE id = ?",
            (status, now, license_id),
        )

    # -------------------------------------------------------------- leases
    def end_expired_leases(self, license_id: str, now: float) -> int:
        """Lazy reclaim: mark this license's leases past their expiry as ended."""
        cur = self.conn.execute(
            "UPDATE leases SET ended_at = expires_at, end_reason = 'expired'"
            " WHERE license_id = ? AND ended_at IS NULL AND expires_at <= ?",
            (license_id, now),
        )
        return cur.rowcount

    def live_lease_for_identity(self, license_id: str, identity: str, now: float) -> Lease | None:
        return _to_row(
            Lease,
            self._one(
                f"SELECT {columns(Lease)} FROM leases WHERE license_id = ? AND identity = ? AND ended_at IS NULL AND expires_at > ?"
                " ORDER BY issued_at LIMIT 1",
                license_id,
                identity,
                now,
            ),
        )

    def count_live_leases(self, license_id: str, now: float) -> int:
        row = self._one(
            "SELECT count(*) FROM leases WHERE license_id = ? AND ended_at IS NULL AND expires_at > ?",
            license_id,
            now,
        )
        return int(row[0]) if row else 0

    def lease_counters(self, license_id: str, now: float) -> tuple[int, int]:
        """(devices holding a live lease now, leases ever granted) for one license."""
        row = self._one(
            "SELECT count(DISTINCT CASE WHEN ended_at IS NULL AND expires_at > ? THEN device_id END), count(*)"
            " FROM leases WHERE license_id = ?",
            now,
            license_id,
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def count_all_live_leases(self, now: float) -> int:
        row = self._one("SELECT count(*) FROM leases WHERE ended_at IS NULL AND expires_at > ?", now)
        return int(row[0]) if row else 0

    def lease(self, token: str) -> Lease | None:
        """The lease with this token, in whatever state and under whichever license:
        the runtime's `find_lease` step decides whose it is (AUTH-02)."""
        return _to_row(Lease, self._one(f"SELECT {columns(Lease)} FROM leases WHERE token = ?", token))

    def insert_lease(self, lease: Lease) -> None:
        _insert(self.conn, "leases", lease)

    def extend_lease(self, token: str, expires_at: float) -> None:
        self.conn.execute("UPDATE leases SET expires_at = ? WHERE token = ?", (expires_at, token))

    def revive_lease(self, token: str, expires_at: float) -> None:
        self.conn.execute(
            "UPDATE leases SET expires_at = ?, ended_at = NULL, end_reason = NULL WHERE token = ?",
            (expires_at, token),
        )

    def end_lease(self, token: str, ended_at: float, reason: str) -> None:
        self.conn.execute(
            "UPDATE leases SET ended_at = ?, end_reason = ? WHERE token = ? AND ended_at IS NULL",
            (ended_at, reason, token),
        )

    # -------------------------------------------------------------- idempotency
    def forget_idempotency(self, scope: str, endpoint: str, key: str, not_before: float) -> None:
        """Forget the stored answer for a key once it is older than `not_before` (a write)."""
        self.conn.execute(
            "DELETE FROM idempotency WHERE scope = ? AND endpoint = ? AND key = ? AND created_at < ?",
            (scope, endpoint, key, not_before),
        )

    def idempotency_record(self, scope: str, endpoint: str, key: str) -> IdempotencyRecord | None:
        """The stored answer for a key, if any (a read: it takes no write lock)."""
        row = self._one(
            "SELECT * FROM idempotency WHERE scope = ? AND endpoint = ? AND key = ?",
            scope,
            endpoint,
            key,
        )
        if row is None:
            return None
        return IdempotencyRecord(
            scope=row["scope"],
            endpoint=row["endpoint"],
            key=row["key"],
            fingerprint=row["fingerprint"],
            status=row["status"],
            data=json.loads(row["data"]),
            created_at=row["created_at"],
        )

    def idempotency_put(self, record: IdempotencyRecord) -> None:
        _insert(self.conn, "idempotency", record)

    # -------------------------------------------------------------- housekeeping
    def prune(self, now: float, keep_seconds: float) -> None:
        """Forget idempotency records and ended leases older than the retention."""
        cutoff = now - keep_seconds
        self.conn.execute("DELETE FROM idempotency WHERE created_at < ?", (cutoff,))
        self.conn.execute("DELETE FROM leases WHERE ended_at IS NOT NULL AND ended_at < ?", (cutoff,))

    def ping(self) -> None:
        """Touches the database file itself (not just the connection)."""
        self.conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()


class Store:
    """One SQLite database file, shared by every worker process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        # Writers of this process run on one connection and share COMMITs when they
        # queue (group_commit.py); SQLite's lock still serialises writers across
        # worker processes (busy_timeout).
        self._writes = GroupCommit(self._connect, BUSY_TIMEOUT_SECONDS)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        # FULL: an acknowledged checkout survives power loss, not just a crash.
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def initialise(self) -> None:
        """Create the file, switch it to WAL and create the schema (idempotent)."""
        try:
            # Lease tokens are bearer credentials: the file (and the -wal/-shm
            # files SQLite creates with the same mode) is private.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise sqlite3.OperationalError(exc.strerror or str(exc)) from None
        conn = self._conn()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"cannot switch {self.path} to WAL mode (got {mode})")
        with self.write() as tx:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    tx.conn.execute(statement)
            # A database made before the key prefix columns existed gains them (empty).
            columns = {row[1] for row in tx.conn.execute("PRAGMA table_info(licenses)")}
            for column in ("key_prefix", "key_last4"):
                if column not in columns:
                    tx.conn.execute(f"ALTER TABLE licenses ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction holding SQLite's write lock from its first statement; on a
        normal exit it returns once its work is committed (possibly with other writers')."""
        with self._writes.transaction() as conn:
            yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot, no write lock."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield Tx(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
