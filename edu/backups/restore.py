"""Restore an instance from a backup archive: check everything first, then replace file by file.

The archive is unpacked into a private folder beside the instance and checked before anything
is replaced: a readable gzip tar whose manifest is ours, every member present with its size
and SHA-256, the database passing ``PRAGMA integrity_check`` at a schema revision this version
knows (an older one migrates on the next start), and the token key decrypting every stored
device token (the channel key every tip channel). An instance that already has a database is
replaced only when asked (``force``), and never while a worker holds its job lease. Each file
is then renamed into place (written beside, then ``os.replace``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import asdict, dataclass
from gzip import BadGzipFile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.request import pathname2url

from edu.backups.backup import (
    DATABASE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SECRETS,
    SPECS,
    TOKEN_KEY,
    count_rows,
    key_fingerprint,
    schema_revision,
    sqlite_path,
)
from edu.config import Settings
from edu.models import Device
from edu.tips.models import TipChannel

logger = logging.getLogger(__name__)

MANIFEST_LIMIT = 1 << 20
# Tables read with sqlite3, named by their models
KEY_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    (TOKEN_KEY, str(Device.__tablename__), "token_ciphertext", "device tokens"),
    ("channels.key", str(TipChannel.__tablename__), "url_ciphertext", "tip channels"),
)


class RestoreError(ValueError):
    """An archive that cannot be restored, or an instance it must not replace (one line)."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore put in place."""

    instance: str
    database: str
    created: str
    schema_revision: str | None
    key_fingerprint: str | None
    devices: int
    files: int
    replaced: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading the archive -----------------------------------------------------------------------


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        raise RestoreError(f"the archive holds an unsafe path {name!r}")
    return path.as_posix()


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise RestoreError("not a Feature Coach backup (no manifest)") from None
    handle = tar.extractfile(member) if member.isfile() else None
    if handle is None or member.size > MANIFEST_LIMIT:
        raise RestoreError("not a Feature Coach backup (no readable manifest)")
    try:
        manifest = json.loads(handle.read())
    except ValueError:
        raise RestoreError("not a Feature Coach backup (the manifest is not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreError("not a Feature Coach backup (a foreign manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RestoreError(
            f"made by a newer Feature Coach (backup format {version}): upgrade first"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or DATABASE not in files:
        raise RestoreError("not a Feature Coach backup (the manifest lists no database)")
    return manifest


def _unpack(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack *archive* into *staging* (mode 0600 files), checking it whole; return the manifest."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()  # reads to the end: a truncated archive fails here
        manifest = _read_manifest(tar)
        listed: dict[str, Any] = manifest["files"]
        seen: set[str] = set()
        for member in members:
            if member.name == MANIFEST:
                continue
            name = _safe_name(member.name)
            if member.isdir():
                continue
            if not member.isfile() or name not in listed:
                raise RestoreError(f"the archive holds a member its manifest does not list: {name}")
            _extract(tar, member, staging / name, listed[name])
            seen.add(name)
        missing = sorted(set(listed) - seen)
        if missing:
            raise RestoreError(f"the archive is damaged: {missing[0]} is missing")
    return manifest


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, expected: Any) -> None:
    handle = tar.extractfile(member)
    if handle is None or not isinstance(expected, dict):
        raise RestoreError(f"the archive is damaged: {member.name} cannot be read")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
    if size != expected.get("bytes") or digest.hexdigest() != expected.get("sha256"):
        raise RestoreError(f"the archive is damaged: {member.name} does not match its manifest")


def _open(path: Path, mode: str) -> sqlite3.Connection:
    """Open an existing SQLite file (never creating one)."""
    return sqlite3.connect(f"file:{pathname2url(str(path))}?mode={mode}", uri=True, timeout=5)


# -- checking what it holds --------------------------------------------------------------------


def known_revisions() -> set[str]:
    """Return every schema revision this version of Feature Coach ships."""
    from edu.migrations import revisions

    return set(revisions())


def _check_database(path: Path, manifest: dict[str, Any]) -> tuple[str | None, int]:
    connection = _open(path, "ro")
    try:
        (check,) = connection.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise RestoreError(f"the database in the archive fails its integrity check: {check}")
        revision = schema_revision(connection)
        if revision != manifest.get("schema_revision"):
            raise RestoreError("the archive is damaged: the database and its manifest disagree")
        if revision is not None and revision not in known_revisions():
            raise RestoreError(
                f"the backup is at schema {revision}, newer than this Feature Coach: upgrade first"
            )
        return revision, count_rows(connection, "device")
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"the database in the archive cannot be read: {exc}") from None
    except UnicodeError:  # damaged text where SQLite expects UTF-8
        raise RestoreError("the database in the archive cannot be read: damaged text") from None
    finally:
        connection.close()


def _ciphertexts(path: Path, table: str, column: str) -> list[str]:
    connection = _open(path, "ro")
    try:
        rows = connection.execute(
            f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'  # noqa: S608
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # a database from before the table existed
    except UnicodeError:  # damaged text where SQLite expects UTF-8
        raise RestoreError("the database in the archive cannot be read: damaged text") from None
    finally:
        connection.close()
    return [str(row[0]) for row in rows]


def _check_keys(staging: Path, manifest: dict[str, Any]) -> str | None:
    """Check the token key decrypts every stored device token (the channel key every channel)."""
    from cryptography.fernet import Fernet, InvalidToken

    database = staging / DATABASE
    fingerprint: str | None = None
    for key_name, table, column, what in KEY_CHECKS:
        stored = _ciphertexts(database, table, column)
        key_path = staging / key_name
        if not key_path.is_file():
            if stored:
                raise RestoreError(f"the archive has no {key_name} for its {len(stored)} {what}")
            continue
        key = key_path.read_bytes().strip()
        if key_name == TOKEN_KEY:
            fingerprint = key_fingerprint(key)
            if fingerprint != manifest.get("key_fingerprint"):
                raise RestoreError("the archive's token key is not the one its manifest names")
        try:
            fernet = Fernet(key)
            for ciphertext in stored:
                fernet.decrypt(ciphertext.encode("ascii"))
        except (InvalidToken, ValueError, UnicodeError):
            raise RestoreError(f"the archive's {key_name} does not decrypt its {what}") from None
    return fingerprint


# -- the instance it replaces ------------------------------------------------------------------


def _lease_holder(database: Path) -> str | None:
    """Return who holds the job lease of a database (edu serve or edu worker), if anyone."""
    from sqlalchemy.exc import SQLAlchemyError

    from edu.db import build_engine
    from edu.lease import lease_holder

    engine = build_engine(f"sqlite:///{database}")
    try:
        return lease_holder(engine)
    except SQLAlchemyError:  # no lease table yet, or not a database we can read
        return None
    finally:
        engine.dispose()


def _check_target(database: Path, force: bool) -> bool:
    """Refuse a live instance without *force*, or one in use; return whether one is replaced."""
    if not database.exists() or database.stat().st_size == 0:
        return False
    if not force:
        raise RestoreError(
            f"{database.parent} already has a database: restore into an empty instance, "
            "or add --force to replace it"
        )
    if _lease_holder(database) is not None:
        raise RestoreError(
            "edu serve or edu worker is running on this instance (it holds the job lease): stop it first"
        )
    return True


def _settle(database: Path) -> None:
    """Fold the old database's write-ahead log into it and drop the log (or refuse: it is in use).

    A log left beside the new file would be replayed into it.
    """
    try:
        connection = sqlite3.connect(database, timeout=5)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (mode,) = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"the database {database} is in use or damaged: {exc}") from None
    if mode != "delete" or Path(f"{database}-wal").exists():
        raise RestoreError(
            f"the database {database} is in use: stop edu serve and edu worker first"
        )


def _move(source: Path, target: Path) -> None:
    """Rename *source* over *target*; across disks, copy beside *target* first, then rename."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        beside = target.with_name(f".{target.name}.restoring")
        descriptor = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out, source.open("rb") as handle:
            shutil.copyfileobj(handle, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(beside, target)


def _place(staging: Path, instance: Path, database: Path, replaced: bool) -> int:
    """Rename every checked file into place, the database first; return how many."""
    if replaced:
        _settle(database)
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _move(staging / DATABASE, database)
    placed = 1
    for name in SECRETS:
        if (staging / name).is_file():
            _move(staging / name, instance / name)
            placed += 1
    specs = staging / SPECS
    if specs.is_dir():
        old = instance / SPECS
        if old.exists():
            os.replace(old, staging / "specs.old")
        os.replace(specs, old)
        placed += sum(1 for path in old.rglob("*") if path.is_file())
    return placed


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> RestoreResult:
    """Check *archive* whole, then put its database, keys and specs in place of the instance's."""
    database = sqlite_path(settings.database_url)
    if database is None:
        raise RestoreError(
            "the database is on PostgreSQL: restore it with pg_restore; "
            "a Feature Coach archive holds a SQLite database"
        )
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise RestoreError(f"no backup file {archive}")
    instance = settings.instance
    anchor = instance if instance.is_dir() else _existing_ancestor(instance)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=anchor))  # mode 0700, same disk
    try:
        try:
            manifest = _unpack(archive, staging)
        except (tarfile.TarError, EOFError, zlib.error, BadGzipFile) as exc:
            cut = isinstance(exc, EOFError) or "unexpected end" in str(exc)
            reason = "truncated" if cut else "not a gzip tar archive"
            raise RestoreError(f"{archive.name} is not a Feature Coach backup ({reason})") from None
        revision, devices = _check_database(staging / DATABASE, manifest)
        fingerprint = _check_keys(staging, manifest)
        replaced = _check_target(database, force)
        private = not instance.exists()
        instance.mkdir(parents=True, exist_ok=True, mode=0o700)
        if private:
            os.chmod(instance, 0o700)
        files = _place(staging, instance, database, replaced)
    except RestoreError as exc:
        raise RestoreError(
            f"{archive.name}: {exc}" if archive.name not in str(exc) else str(exc)
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("restored %s into %s (schema %s)", archive.name, instance, revision)
    return RestoreResult(
        instance=str(instance),
        database=str(database),
        created=str(manifest.get("created")),
        schema_revision=revision,
        key_fingerprint=fingerprint,
        devices=devices,
        files=files,
        replaced=replaced,
    )


def _existing_ancestor(path: Path) -> Path:
    for parent in path.parents:
        if parent.is_dir():
            return parent
    raise RestoreError(f"no folder to restore {path} into")
