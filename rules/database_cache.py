"""Compiled Hyperscan databases kept on disk, so loading the same rule packs again skips compiling them.

Owns the cache file format and `cached_databases(folder)`, the context in which `rules.matcher` looks a
database up before compiling it. A file is named by the SHA-256 of everything the compiled database
depends on (the expressions, ids, flags and mode, the binding's version and the machine), written
atomically (a temporary file renamed), and checked when read: a file whose header, length or SHA-256
does not match, or that Hyperscan refuses (another library version or CPU), is compiled again and
rewritten, never trusted. Hyperscan itself accepts a damaged database without complaint, hence the
SHA-256 of our own. A cache that cannot be written (read-only folder, full disk) only costs the compile.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

#: First bytes of a cache file; a new layout gets a new magic, so old files are simply not found valid.
MAGIC: Final = b"PWHSDB1\n"
_DIGEST_BYTES: Final = 32
_SUFFIX: Final = ".hsdb"

_folder: ContextVar[Path | None] = ContextVar("hyperscan_cache_folder", default=None)


@contextmanager
def cached_databases(folder: Path | None) -> Iterator[None]:
    """Within this context, Hyperscan databases are read from and written to `folder` (None: no cache)."""
    token = _folder.set(folder)
    try:
        yield
    finally:
        _folder.reset(token)


def cache_key(binding_version: str, mode: int, expressions: Sequence[bytes], ids: Sequence[int],
              flags: Sequence[int], literal: bool) -> str:
    """SHA-256 (hex) of everything a compiled database depends on."""
    digest = hashlib.sha256()
    digest.update(f"{binding_version}\0{platform.machine()}\0{platform.system()}\0{mode}\0{int(literal)}\0"
                  f"{len(expressions)}\0".encode())
    for expression, key_id, flag in zip(expressions, ids, flags, strict=True):
        digest.update(f"{key_id}:{flag}:{len(expression)}:".encode())
        digest.update(expression)
    return digest.hexdigest()


def read_payload(folder: Path, key: str) -> bytes | None:
    """The payload stored under `key`, or None if there is none or it is not intact."""
    try:
        raw = (folder / f"{key}{_SUFFIX}").read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST_BYTES
    if len(raw) <= head or not raw.startswith(MAGIC):
        return None
    payload = raw[head:]
    if hashlib.sha256(payload).digest() != raw[len(MAGIC):head]:
        return None
    return payload


def write_payload(folder: Path, key: str, payload: bytes) -> None:
    """Store `payload` under `key` atomically: readers see the old file, the new one, or none."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, folder / f"{key}{_SUFFIX}")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.warning("rule automaton cache not written in %s: %s", folder, exc)


def load_or_compile(key: str, compile_database: Callable[[], Any], dump: Callable[[Any], bytes],
                    load: Callable[[bytes], Any]) -> Any:
    """The database cached under `key` in the current context's folder, else `compile_database()`
    (stored there for next time). A cached payload that `load` refuses is compiled again."""
    folder = _folder.get()
    if folder is None:
        return compile_database()
    payload = read_payload(folder, key)
    if payload is not None:
        try:
            return load(payload)
        except Exception as exc:  # noqa: BLE001 - any refusal (version, platform, damage) means: compile
            logger.info("rule automaton cache %s refused (%s): compiling again", key[:12], exc)
    database = compile_database()
    write_payload(folder, key, dump(database))
    return database


__all__ = ["MAGIC", "cache_key", "cached_databases", "load_or_compile", "read_payload",
           "write_payload"]
