"""Unpacking the archives the reference unpacks (.tar, .tar.gz, .zip), refusing any member that would land
outside the target folder (``../``, absolute paths, links pointing out, device files).

Everything is checked before anything is written, then extracted into a temporary folder beside the target
and renamed into place, so a refused or broken archive leaves no half-unpacked tree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from podium.fetch.messages import FetchError


def _unsafe(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


def check_members(archive: Path, kind: str) -> None:
    """Raise ``FetchError`` naming the first member of ``archive`` that would escape the target folder."""
    if kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if _unsafe(info.filename):
                    raise FetchError(f"{archive}: member {info.filename!r} would be written outside the folder; "
                                     "not unpacking it")
        return
    with tarfile.open(archive, "r:*") as tf:
        for m in tf.getmembers():
            if _unsafe(m.name):
                raise FetchError(f"{archive}: member {m.name!r} would be written outside the folder; not unpacking it")
            if m.issym() or m.islnk():
                target = m.linkname if m.islnk() else str(PurePosixPath(m.name).parent / m.linkname)
                if _unsafe(m.linkname) or ".." in PurePosixPath(os.path.normpath(target)).parts:
                    raise FetchError(f"{archive}: link {m.name!r} -> {m.linkname!r} points outside the folder; "
                                     "not unpacking it")
            elif not (m.isfile() or m.isdir()):
                raise FetchError(f"{archive}: member {m.name!r} is a device or fifo; not unpacking it")


def unpack(archive: str | Path, target: str | Path, kind: str) -> Path:
    """Unpack ``archive`` (``tar``, ``tar.gz`` or ``zip``) into the folder ``target`` safely; returns ``target``."""
    archive, target = Path(archive), Path(target)
    try:
        check_members(archive, kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".unpack", dir=target.parent))
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise FetchError(f"{archive}: not a readable {kind} archive ({exc})") from None
    except OSError as exc:
        raise FetchError(f"{archive}: cannot unpack ({exc.strerror or exc})") from None
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(archive, "r:*") as tf:
                # the 'data' filter (Python >= 3.11.4) refuses what check_members refused, a second guard
                tf.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tf.extractall(tmp)
        # merge into target: what the archive holds replaces same-named entries, other files stay
        target.mkdir(parents=True, exist_ok=True)
        for entry in tmp.iterdir():
            dest = target / entry.name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.exists() or dest.is_symlink():
                dest.unlink()
            os.replace(entry, dest)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise FetchError(f"{archive}: not a readable {kind} archive ({exc})") from None
    except OSError as exc:
        raise FetchError(f"{archive}: cannot unpack into {target} ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    return target
