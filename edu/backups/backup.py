"""Back an instance up: a consistent online copy of the SQLite database, its keys and specs, in one archive.

The archive is a gzip tar written with mode 0600 from its first byte. Its first member is
``manifest.json`` (format, created time, schema revision, a fingerprint of the token key,
the size and SHA-256 of every other member: never a key itself); then the database (copied
with SQLite's backup API, so ``edu serve`` may keep writing meanwhile), the instance secrets a
restore needs (the token key, the channel key, the session and link secrets) and the fetched
MIoT specs. ``edu.backups.restore`` reads it back. PostgreSQL is backed up with ``pg_dump``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from edu.config import Settings
from edu.db import utcnow

logger = logging.getLogger(__name__)

FORMAT = "feature-coach-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "feature-coach.sqlite3"  # the database's name inside the archive
TOKEN_KEY = "token.key"  # noqa: S105  (a file name, not a secret)
# The instance secrets a restore needs: the token key (device tokens), the channel key (tip
# channel URLs), the session secret and the link secret (unsubscribe links keep working).
SECRETS = (TOKEN_KEY, "channels.key", "secret.key", "tips.secret")
SPECS = "specs"
FOLDER = "backups"
PG_DUMP_HINT = (
    "the database is on PostgreSQL: back it up with pg_dump "
    "(pg_dump -Fc -f feature-coach.dump DBNAME) and copy the instance folder's *.key and "
    "*.secret files beside it"
)


class BackupError(ValueError):
    """A backup that cannot be made (said in one line)."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote: never a key, only its fingerprint."""

    path: str
    bytes: int
    created: str
    schema_revision: str | None
    key_fingerprint: str | None
    devices: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sqlite_path(url: str) -> Path | None:
    """Return the file of a SQLite database URL, or None for another database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(parsed.database).expanduser().resolve()


def key_fingerprint(key: bytes) -> str:
    """Return a short one-way fingerprint of a key (safe to print and to keep in a manifest)."""
    digest = hashlib.sha256(b"feature-coach key fingerprint\0" + key.strip()).hexdigest()
    return f"sha256:{digest[:16]}"


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def private_folder(path: Path) -> Path:
    """Create *path* (and its parents) private to the user and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_path(
    instance: Path, prefix: str = "feature-coach", now: datetime | None = None
) -> Path:
    """Return ``<instance>/backups/<prefix>-<UTC time>.tar.gz``."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    return instance / FOLDER / f"{prefix}-{stamp}.tar.gz"


# -- the copy ----------------------------------------------------------------------------------


def copy_database(source: Path, target: Path) -> tuple[str | None, int]:
    """Copy a live SQLite database with the backup API; return its schema revision and devices.

    One backup step copies every page inside one read transaction: in WAL mode writers go on
    meanwhile and the copy is the database as of one moment. The copy is left in rollback
    journal mode, one self-contained file.
    """
    if not source.is_file():
        raise BackupError(f"no database at {source}: nothing to back up")
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    try:
        src = sqlite3.connect(f"file:{pathname2url(str(source))}?mode=rw", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
                (check,) = dst.execute("PRAGMA integrity_check").fetchone()
                if check != "ok":
                    raise BackupError(
                        f"the database at {source} fails its integrity check: {check}"
                    )
                return schema_revision(dst), count_rows(dst, "device")
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from None


def schema_revision(connection: sqlite3.Connection) -> str | None:
    """Return the Alembic revision a SQLite database is at (None before migrations)."""
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def count_rows(connection: sqlite3.Connection, table: str) -> int:
    """Return how many rows *table* holds (0 when it does not exist)."""
    try:
        return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608
    except sqlite3.OperationalError:
        return 0


def _instance_files(instance: Path) -> Iterator[tuple[str, Path]]:
    """Yield (name in the archive, path) for the secrets and fetched specs of an instance."""
    for name in SECRETS:
        path = instance / name
        if path.is_file():
            yield name, path
    specs = instance / SPECS
    if specs.is_dir():
        for path in sorted(specs.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(instance).as_posix(), path


def _snapshot(instance: Path, staging: Path) -> list[tuple[str, Path]]:
    """Copy the secrets and specs into *staging* (private), so each is archived as digested."""
    copied: list[tuple[str, Path]] = []
    for name, path in _instance_files(instance):
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out, path.open("rb") as handle:
            shutil.copyfileobj(handle, out)
        copied.append((name, target))
    return copied


# -- the archive -------------------------------------------------------------------------------


def _private_info(name: str, size: int, when: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, int(when), 0o600, tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_archive(
    partial: Path, manifest: dict[str, Any], members: list[tuple[str, Path]], when: float
) -> None:
    """Write the archive at *partial*, created with mode 0600 (the umask can only take bits away)."""
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        os.fchmod(raw.fileno(), 0o600)
        with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            body = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            tar.addfile(_private_info(MANIFEST, len(body), when), io.BytesIO(body))
            for name, path in members:
                with path.open("rb") as handle:
                    tar.addfile(_private_info(name, path.stat().st_size, when), handle)
        raw.flush()
        os.fsync(raw.fileno())


def create_backup(
    settings: Settings,
    to: Path | None = None,
    *,
    prefix: str = "feature-coach",
    now: datetime | None = None,
) -> BackupResult:
    """Back the instance up into one archive (default ``<instance>/backups/``); return what it wrote."""
    source = sqlite_path(settings.database_url)
    if source is None:
        raise BackupError(PG_DUMP_HINT)
    if not source.is_file():
        raise BackupError(f"no database at {source}: nothing to back up")
    created = now or utcnow()
    instance = settings.instance
    target = Path(to).expanduser().resolve() if to else default_path(instance, prefix, created)
    if target.exists():
        raise BackupError(f"{target} already exists: choose another file")
    if to is None:
        private_folder(target.parent)
    elif not target.parent.is_dir():
        raise BackupError(f"no folder {target.parent} to write the backup into")
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=target.parent))  # mode 0700
    partial = target.with_name(f".{target.name}.partial")
    try:
        copy = staging / DATABASE
        revision, devices = copy_database(source, copy)
        members = [(DATABASE, copy), *_snapshot(instance, staging / "instance")]
        key_file = staging / "instance" / TOKEN_KEY
        fingerprint = key_fingerprint(key_file.read_bytes()) if key_file.is_file() else None
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": created.isoformat(),
            "schema_revision": revision,
            "database": DATABASE,
            "key_fingerprint": fingerprint,
            "devices": devices,
            "files": {
                name: {"bytes": path.stat().st_size, "sha256": file_digest(path)}
                for name, path in members
            },
        }
        partial.unlink(missing_ok=True)
        _write_archive(partial, manifest, members, created.timestamp())
        try:
            os.link(partial, target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise BackupError(f"{target} already exists: choose another file") from None
    except OSError as exc:
        raise BackupError(f"cannot write the backup {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("backup written to %s (schema %s, %d device(s))", target, revision, devices)
    return BackupResult(
        path=str(target),
        bytes=target.stat().st_size,
        created=created.isoformat(),
        schema_revision=revision,
        key_fingerprint=fingerprint,
        devices=devices,
        files=len(members),
    )


# -- the nightly job ---------------------------------------------------------------------------

NIGHTLY = "nightly"
_NIGHTLY_NAME = re.compile(rf"^{NIGHTLY}-\d{{8}}T\d{{6}}Z\.tar\.gz$")


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest *keep* nightly backups in *folder*; return what was deleted."""
    if not folder.is_dir():
        return []
    nightly = sorted(p for p in folder.iterdir() if _NIGHTLY_NAME.match(p.name))
    old = nightly[: max(len(nightly) - keep, 0)]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def nightly_backup(settings: Settings, now: datetime | None = None) -> str:
    """Take the nightly backup and keep the newest EDU_BACKUP_KEEP; return what was done."""
    result = create_backup(settings, prefix=NIGHTLY, now=now)
    removed = prune(Path(result.path).parent, settings.backup_keep)
    return (
        f"backup {Path(result.path).name} ({result.bytes} bytes); {len(removed)} old one(s) removed"
    )


def nightly_trigger(settings: Settings) -> Any:
    """Return the nightly backup's trigger (EDU_BACKUP_AT, local time), or None when it is off.

    Off when EDU_BACKUP_KEEP is 0, and on PostgreSQL (back that up with pg_dump).
    """
    if settings.backup_keep <= 0 or not settings.database_url.startswith("sqlite"):
        return None
    from apscheduler.triggers.cron import CronTrigger
    from tzlocal import get_localzone

    hour, minute = (int(part) for part in settings.backup_at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=get_localzone())
