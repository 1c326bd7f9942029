"""Reads catalog folders from disk for ``bot.catalog`` (the I/O shell): no link out of a folder, no huge file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from bot.catalog.loader import TEMPLATE_SUFFIXES, CatalogFiles, parse_catalogs
from bot.catalog.model import CatalogSet
from bot.errors import CatalogError

MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 500


def read_catalog_folder(folder: Path) -> CatalogFiles:
    """Read every regular file of a catalog folder, refusing links that leave it and oversized files."""
    root = folder.resolve()
    shown = folder.as_posix()
    problems: list[str] = []
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(relative).parts):
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                problems.append(f"{shown}/{relative}: is a symbolic link pointing outside the catalog folder")
                continue
        if not path.is_file():
            continue
        if len(files) >= MAX_FILES:
            problems.append(f"{shown}: holds more than {MAX_FILES} files")
            break
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(f"{shown}/{relative}: is {size} bytes; catalog files may be at most {MAX_FILE_BYTES}")
            continue
        try:
            files[relative] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            if relative == "catalog.yaml" or relative.endswith((".tf", *TEMPLATE_SUFFIXES)):
                problems.append(f"{shown}/{relative}: is not UTF-8 text")
    if problems:
        raise CatalogError(problems)
    return CatalogFiles(name=folder.name, root=shown, files=files)


def load_catalogs(catalogs_dir: Path) -> CatalogSet:
    """Load every catalog under ``catalogs_dir``; all problems of all catalogs are raised together."""
    if not catalogs_dir.is_dir():
        raise CatalogError(f"{catalogs_dir.as_posix()}: catalogs folder not found")
    folders: list[CatalogFiles] = []
    problems: list[str] = []
    root = catalogs_dir.resolve()
    for folder in sorted(p for p in catalogs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.is_symlink() and not folder.resolve().is_relative_to(root):
            problems.append(f"{folder.as_posix()}: is a symbolic link pointing outside the catalogs folder")
            continue
        try:
            folders.append(read_catalog_folder(folder))
        except CatalogError as exc:
            problems.extend(exc.problems)
    try:
        catalogs = parse_catalogs(folders)
    except CatalogError as exc:
        problems.extend(exc.problems)
    if problems:
        raise CatalogError(problems)
    return catalogs
