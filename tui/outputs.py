"""The CLI's output and input paths: refuse what exists unless --force, claim every output or none."""

from __future__ import annotations

import os
from pathlib import Path

from vgrad.core.errors import InputError


def refuse_existing_outputs(outputs, force: bool) -> None:
    """An output that is a folder (or FIFO, device), or exists without --force, is refused at once,
    before data is loaded: what it is first, since --force would not help there."""
    from vgrad.core.guard import expand

    for path, what in outputs:
        if path is None:
            continue
        target = expand(path, what)
        if os.path.exists(target) and not os.path.isfile(target):
            kind = "a folder" if os.path.isdir(target) else "not a regular file (a FIFO, device or socket)"
            raise InputError(f"{what} {path}: is {kind}; give the name of a file to write")
        if not force and os.path.lexists(target):
            raise InputError(f"{what} {path}: exists; choose a new name or pass --force to overwrite it")


def claim_outputs(outputs, force: bool, inputs=(), into: list | None = None) -> list:
    """Claim every output (guard.claim_output), or none: on a refusal the claimed are abandoned.
    `into`: the caller's list, filled as each is claimed (a signal just after still finds them)."""
    from vgrad.core.guard import claim_output

    claimed = [] if into is None else into
    try:
        for path, what in outputs:
            claimed.append(None if path is None else
                           claim_output(path, what, force=force, inputs=inputs,
                                        claimed=[c for c in claimed if c is not None]))
    except BaseException:   # a refusal, or a signal mid-claim
        for output in claimed:
            if output is not None:
                output.abandon()
        raise
    return claimed


def data_files(source: str) -> tuple[Path, ...]:
    """The files a --data source may read (none for the built-in names)."""
    from vgrad.core.data import BUILTIN

    path = Path(source).expanduser()
    if source.strip().lower() in BUILTIN or not path.exists():
        return ()
    return (path, *path.iterdir()) if path.is_dir() else (path,)
