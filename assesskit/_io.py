"""Files for the shell: YAML inputs read with located errors, atomic all-or-nothing
output sets, and input hashes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from .exceptions import AssessKitError, ReportError

CSV_ENCODING = "utf-8-sig"
"""Output CSVs carry a BOM so that Excel (also on Chinese Windows) reads the labels right."""


def read_yaml(path: str | os.PathLike, error: type[AssessKitError], what: str) -> object:
    """Parse a UTF-8 YAML file; any failure raises ``error`` naming the file (and the line).

    Parameters
    ----------
    path : path
    error : AssessKitError subclass
        What to raise (``SchemeError``, ``SpecError``, ``ReportError``).
    what : str
        What the file is, for the messages ("scheme", "sensitivity spec", "run spec").
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: no such {what} file") from None
    except UnicodeDecodeError as exc:
        raise error(f"{p}: {what} files must be UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {what} ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise error(f"{p}: broken YAML{at}: {getattr(exc, 'problem', exc)}") from None


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_outputs(out_dir: str | os.PathLike, files: Mapping[str, pd.DataFrame | dict | str]) -> list[Path]:
    """Write a set of files into ``out_dir`` all-or-nothing.

    Everything is first written into a temporary folder beside ``out_dir``; only when every
    file is complete are they moved into place, each with an atomic ``os.replace``. A
    failure leaves the folder as it was (files of an earlier run are not touched).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: exists and is not a folder; give a folder for the outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    tmp = Path(tempfile.mkdtemp(prefix=".assesskit-", dir=out))
    try:
        written = []
        for name, obj in files.items():
            p = tmp / name
            if isinstance(obj, pd.DataFrame):
                obj.to_csv(p, index=False, encoding=CSV_ENCODING, lineterminator="\n")
            elif isinstance(obj, dict):
                p.write_text(
                    json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
                )
            else:
                p.write_text(obj, encoding="utf-8")
            written.append(name)
        final = []
        for name in written:
            os.replace(tmp / name, out / name)
            final.append(out / name)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
