"""File writing for the shell: atomic, all-or-nothing output sets, and input hashes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .exceptions import ReportError

CSV_ENCODING = "utf-8-sig"
"""Output CSVs carry a BOM so that Excel (also on Chinese Windows) reads the labels right."""


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
