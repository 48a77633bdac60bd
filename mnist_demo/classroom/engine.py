"""The class store's two database engines: SQLite (one file, the embedded default) and PostgreSQL (shared by
several app servers). The one place that knows which engine runs; the store writes one portable SQL.

The store's SQL uses `?` placeholders and three type words that the engine fills into the schema: `{id}` (an
auto-numbered primary key), `{blob}` (bytes) and `{real}` (a double). Reads are `rows`/`one`; every write is
`with engine.write(scope) as db:` one transaction in which the store checks its caps and writes, serialized
with the other writes of the same scope, so caps hold under any number of writers, threads or servers:
* SQLite: `BEGIN IMMEDIATE` serializes every write of the file (scopes need nothing more), WAL mode lets
  reads go on meanwhile; one connection per thread.
* PostgreSQL (psycopg 3, a connection pool per process): a write scoped to a class takes a transaction-level
  advisory lock on that class (and the global one shared); a global write (open a class under the cap, purge
  expired classes) takes the global lock exclusively. Two servers' students writing into one class thus take
  turns; different classes do not wait on each other.
`migrate` brings an empty (or older) database to the newest schema on start, under the global lock, so two
servers starting together do it once.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

POOL_SIZE = 10  # PostgreSQL connections per app server (the default server allows 100 in all)
LOCK_NAMESPACE = 2121  # advisory locks: (namespace, 0) is the global lock, (namespace + 1, hash) a scope's
GLOBAL = ""  # the scope of writes that must exclude every other write

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urllib.parse.urlsplit(url).scheme in ("postgres", "postgresql")


def open_engine(folder: Path, file_name: str, url: str | None = None):
    """PostgreSQL for a postgresql:// URL, else the SQLite file `folder/file_name`."""
    if url and not is_postgres_url(url):
        raise ValueError("MNIST_DEMO_DATABASE_URL must be a postgresql:// URL (or unset for SQLite)")
    return PostgresEngine(url) if url else SQLiteEngine(folder / file_name)


class SQLiteEngine:
    """One SQLite file in WAL mode; each thread its own connection."""

    name = "sqlite"
    types = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB", "real": "REAL"}

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def where(self) -> str:
        """The file's name alone: the privacy note (and so the page's /config) never shows the server's folders."""
        return f"SQLite {self.path.name}"

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is not None:
            return db
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            self._connections.append(db)
        self._local.db = db
        return db

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self._db().execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        return self._db().execute(sql, args).fetchone()

    @contextmanager
    def write(self, scope: str = GLOBAL):
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # every writer of the file waits here: caps checked and written at once
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def journal_mode(self) -> str:
        return self.one("PRAGMA journal_mode")[0]

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
            self._local = threading.local()


class _Placeholders:
    """A psycopg connection that takes the store's `?` placeholders (psycopg's are `%s`)."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def execute(self, sql: str, args: tuple = ()):
        return self.connection.execute(sql.replace("?", "%s"), args)


class PostgresEngine:
    """A PostgreSQL database shared by any number of app servers; a small connection pool per process."""

    name = "postgres"
    types = {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "blob": "BYTEA", "real": "DOUBLE PRECISION"}

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool = None
        self._lock = threading.Lock()

    def where(self) -> str:
        """The database's name alone: the privacy note (and so the page's /config) never shows its host or password."""
        return f"PostgreSQL {urllib.parse.urlsplit(self.url).path.lstrip('/') or 'database'}"

    def _connections(self):
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                # `check`: a connection is tested as it leaves the pool, so a database restart costs no failed event
                self._pool = ConnectionPool(self.url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True},
                                            check=ConnectionPool.check_connection, open=True, timeout=30.0,
                                            name="mnist-demo-classes")
            return self._pool

    def rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._connections().connection() as connection:
            return _Placeholders(connection).execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        with self._connections().connection() as connection:
            return _Placeholders(connection).execute(sql, args).fetchone()

    @contextmanager
    def write(self, scope: str = GLOBAL):
        with self._connections().connection() as connection, connection.transaction():
            if scope == GLOBAL:
                connection.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_NAMESPACE,))
            else:
                connection.execute("SELECT pg_advisory_xact_lock_shared(%s, 0), pg_advisory_xact_lock(%s, hashtext(%s))",
                                   (LOCK_NAMESPACE, LOCK_NAMESPACE + 1, scope))
            yield _Placeholders(connection)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def migrate(engine, migrations: list[str]) -> int:
    """Apply the migrations the database has not had yet (each a string of `;`-separated statements with
    `{id}`, `{blob}` and `{real}` for the engine's types), in order, in one global write; returns the
    database's schema version afterwards. A database made before versions were kept counts as version 0: the
    first migration only creates what is missing."""
    with engine.write(GLOBAL) as db:
        db.execute(VERSION_TABLE)
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        version = (row[0] or 0) if row else 0
        for number, migration in enumerate(migrations[version:], start=version + 1):
            for statement in migration.format(**engine.types).split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        return max(version, len(migrations))
