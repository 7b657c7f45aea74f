"""Backup and restore, consistent while writers carry on.

* SQLite: ``sqlite3.Connection.backup`` with ``pages=-1`` copies every page in one step inside
  one read transaction. In WAL mode that read does not block writers and sees one committed
  state, so the copy is a snapshot at a single chain position.
* PostgreSQL: ``pg_dump -Fc`` dumps in one repeatable-read transaction (a snapshot); restore is
  ``pg_restore`` into an empty database. Triggers are created after the data is loaded, so the
  immutability triggers do not refuse the restore.

A restore refuses a target that holds any table: restoring over a live ledger would mix two
chains. After a restore the hash chain is verified.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from ledger.errors import FuelError, ValidationError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: A dump or restore that takes longer than this is stopped (and reported), never left hanging.
TOOL_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class BackupResult:
    path: str
    kind: str  # "sqlite" or "pg_dump"
    size_bytes: int
    entries: int  # journal entries in the copy
    chain_tip_hash: str  # entry_hash of the last entry in the copy ("" when empty)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RestoreResult:
    database: str
    entries: int
    chain_ok: bool
    break_entry: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ValidationError("an in-memory SQLite database cannot be backed up or restored to; use a file")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (kept out of the process list) and the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FuelError(f"{name} is not installed (or not on PATH); it is needed to back up and restore PostgreSQL")
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise FuelError(f"{what} did not finish within {TOOL_TIMEOUT_SECONDS} s; stopped") from None
    if done.returncode != 0:
        raise FuelError(f"{what} failed: {done.stderr.strip() or f'exit status {done.returncode}'}")


def backup_database(engine: Engine, out: Path) -> BackupResult:
    """Write a consistent copy of ``engine``'s database to ``out`` (which must not exist)."""
    if out.exists():
        raise ValidationError(f"{out}: already exists; choose a new file (a backup never overwrites)", field="out")
    if not out.parent.exists():
        raise ValidationError(f"{out.parent}: no such folder", field="out")
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return _backup_sqlite(_sqlite_path(url), out)
    if url.get_backend_name() == "postgresql":
        return _backup_postgres(url, out)
    raise ValidationError(f"cannot back up a {url.get_backend_name()} database")


def _backup_sqlite(source_path: Path, out: Path) -> BackupResult:
    partial = out.with_name(out.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=-1)  # all pages in one step: one read snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            count, tip = _sqlite_chain_position(target)
        finally:
            target.close()
    finally:
        source.close()
    partial.rename(out)  # a reader never sees a half-written backup under the final name
    return BackupResult(str(out), "sqlite", out.stat().st_size, count, tip)


def _sqlite_chain_position(raw: sqlite3.Connection) -> tuple[int, str]:
    count = raw.execute("SELECT COUNT(*) FROM journal_entries").fetchone()[0]
    tip = raw.execute("SELECT entry_hash FROM journal_entries ORDER BY id DESC LIMIT 1").fetchone()
    return int(count), tip[0] if tip else ""


def _backup_postgres(url: URL, out: Path) -> BackupResult:
    uri, env = _libpq(url)
    partial = out.with_name(out.name + ".partial")
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", uri], env,
         "pg_dump")
    partial.rename(out)
    count, tip = _dump_chain_position(out, env)
    return BackupResult(str(out), "pg_dump", out.stat().st_size, count, tip)


def _dump_chain_position(dump: Path, env: dict[str, str]) -> tuple[int, str]:
    """Entries in a pg_dump archive and its last entry's hash, read from the archive itself."""
    done = subprocess.run([_tool("pg_restore"), "--data-only", "--table=journal_entries", "--file=-", str(dump)],
                          env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise FuelError(f"pg_restore could not read {dump}: {done.stderr.strip()}")
    lines = done.stdout.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("COPY public.journal_entries"))
    except StopIteration:
        return 0, ""
    columns = lines[start][lines[start].index("(") + 1 : lines[start].index(")")].split(", ")
    id_at, hash_at = columns.index("id"), columns.index("entry_hash")
    best_id, tip, count = 0, "", 0
    for line in lines[start + 1 :]:
        if line == "\\.":
            break
        fields = line.split("\t")
        count += 1
        if int(fields[id_at]) > best_id:
            best_id, tip = int(fields[id_at]), fields[hash_at]
    return count, tip


def backup_kind(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise FuelError(f"{path}: file not found") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    raise ValidationError(f"{path}: not a Fuel backup (neither a SQLite database nor a pg_dump custom archive)")


def restore_database(engine: Engine, backup: Path) -> RestoreResult:
    """Restore ``backup`` into ``engine``'s database, which must be empty; then verify the chain."""
    from models.ledger_store import Ledger

    kind = backup_kind(backup)
    url = engine.url
    backend = url.get_backend_name()
    shown = url.render_as_string(hide_password=True)
    expected = {"sqlite": "sqlite", "postgresql": "pg_dump"}.get(backend)
    if expected != kind:
        raise ValidationError(f"{backup} is a {kind} backup; it restores into "
                              f"{'a SQLite file' if kind == 'sqlite' else 'a PostgreSQL database'}, not {shown}")
    if backend == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            with sqlite3.connect(path) as probe:
                tables = probe.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if tables:
                raise ValidationError(f"{shown} is not empty ({tables} tables); restore only into a new database")
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(path)
            try:
                source.backup(target, pages=-1)
                target.execute("PRAGMA journal_mode=WAL")
            finally:
                target.close()
        finally:
            source.close()
    else:
        tables = inspect(engine).get_table_names()
        if tables:
            raise ValidationError(f"{shown} is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}); "
                                  "restore only into a new, empty database (createdb NAME)")
        uri, env = _libpq(url)
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={uri}", str(backup)], env, "pg_restore")
        engine.dispose()  # drop pooled connections that saw the empty schema
    report = Ledger(engine).verify()
    return RestoreResult(shown, report.entries_checked, report.ok,
                         report.first_break.entry_id if report.first_break else None)
