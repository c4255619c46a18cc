"""Shared harness for the bad-input and fault corpus (issue 16).

Every corpus case checks the same four things: the exit status, that no Python traceback
reached the user, that the message names the place (file, row, column, key, ...), and that
the output folder holds either the previous complete result or nothing.

``run_cli`` runs the command in-process through click's ``CliRunner`` by default (fast);
``subprocess=True`` runs a real ``python -m assesskit.cli`` process, for signals, real exit
statuses and what Python itself prints on an uncaught exception.
"""

from __future__ import annotations

import hashlib
import os
import subprocess as sp
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from assesskit.cli import main

TRACEBACK = "Traceback (most recent call last)"


@dataclass(frozen=True)
class CliOutcome:
    """What a user saw: exit status, standard output and standard error.

    ``exception`` is the uncaught exception of an in-process run (never ``SystemExit``),
    formatted as a traceback, or ``""``.
    """

    code: int
    stdout: str
    stderr: str
    exception: str = ""

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def _env(env: dict[str, str] | None) -> dict[str, str]:
    full = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    full["PYTHONPATH"] = root + (os.pathsep + full["PYTHONPATH"] if full.get("PYTHONPATH") else "")
    full.update(env or {})
    return full


def run_cli(
    args: Sequence[object],
    *,
    subprocess: bool = False,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    input: str | None = None,
    timeout: float = 600,
) -> CliOutcome:
    """Run ``assesskit ARGS`` and return what the user saw."""
    argv = [str(a) for a in args]
    if subprocess:
        p = sp.run(
            [sys.executable, "-m", "assesskit.cli", *argv],
            capture_output=True,
            text=True,
            env=_env(env),
            cwd=cwd,
            input=input,
            timeout=timeout,
        )
        return CliOutcome(p.returncode, p.stdout, p.stderr)
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        r = CliRunner().invoke(main, argv, input=input, env=env, catch_exceptions=True)
    finally:
        os.chdir(old)
    exc = ""
    if r.exc_info is not None and not isinstance(r.exc_info[1], SystemExit):
        exc = "".join(traceback.format_exception(*r.exc_info))
    return CliOutcome(r.exit_code, r.stdout, r.stderr, exc)


def assert_clean_failure(out: CliOutcome, *, code: int = 2, names: Sequence[str] = ()) -> None:
    """The run failed with ``code``, printed no traceback, and its message names every ``names``."""
    assert not out.exception, f"an uncaught exception reached the user:\n{out.exception}"
    assert TRACEBACK not in out.text, f"a traceback reached the user:\n{out.text}"
    assert out.code == code, f"exit status {out.code}, expected {code}; output:\n{out.text}"
    for name in names:
        assert str(name) in out.text, f"the message does not name {name!r}:\n{out.text}"


def assert_success(out: CliOutcome) -> None:
    """The run succeeded and printed no traceback."""
    assert not out.exception, f"an uncaught exception reached the user:\n{out.exception}"
    assert TRACEBACK not in out.text, f"a traceback reached the user:\n{out.text}"
    assert out.code == 0, f"exit status {out.code}; output:\n{out.text}"


def snapshot(folder: str | os.PathLike) -> dict[str, str] | None:
    """Relative path → SHA-256 of every file under ``folder`` (``None`` when it does not exist)."""
    root = Path(folder)
    if not root.exists():
        return None
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_previous_or_nothing(folder: str | os.PathLike, before: dict[str, str] | None) -> None:
    """``folder`` holds exactly the previous complete result, or — on a first run — nothing.

    With a previous result (``before``), the folder must hold exactly it: a failed run that
    deleted it fails here. With ``before=None`` a missing or empty folder is the only
    acceptable state. No temporary or half-written file may be left beside the result.
    """
    now = snapshot(folder)
    if before is None:
        assert not now, f"{folder} holds files after a failed first run: {sorted(now)}"
        return
    # a failed run never loses the previous result: "nothing" is only for a first run
    now = now or {}
    assert now == before, (
        f"{folder} changed in a failed run: added {sorted(set(now) - set(before))}, "
        f"removed {sorted(set(before) - set(now))}, "
        f"changed {sorted(k for k in set(now) & set(before) if now[k] != before[k])}"
    )
