"""The explorer as a standalone web app: a generated notebook served by Voilà on 127.0.0.1.

:func:`explorer_notebook` writes a one-cell notebook calling :func:`assesskit.explore`
with the inputs' absolute paths; :func:`voila_command` is the command line that serves
it; :func:`serve` validates the inputs first (the project's errors, before any server
starts), then runs Voilà until it is stopped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat

from ..exceptions import AssessKitError
from ..loading import load_inputs
from . import explored_year
from .design import check_variant_path

PathLike = str | os.PathLike


def explorer_notebook(
    folder: PathLike,
    scheme: PathLike,
    data: PathLike,
    *,
    units: PathLike | None = None,
    targets: PathLike | None = None,
    grades: PathLike | None = None,
    year: int | None = None,
    save_to: PathLike | None = None,
    encoding: str | None = None,
) -> Path:
    """Write ``explorer.ipynb`` into ``folder``: one cell whose value is the explorer."""
    args = [repr(str(scheme)), repr(str(Path(data).resolve()))]
    for name, value in (("units", units), ("targets", targets), ("grades", grades), ("save_to", save_to)):
        if value is not None:
            args.append(f"{name}={str(Path(value).resolve())!r}")
    if year is not None:
        args.append(f"year={int(year)}")
    if encoding is not None:
        args.append(f"encoding={encoding!r}")
    code = "from assesskit.explore import explore\n\nexplore(" + ", ".join(args) + ")"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path(folder) / "explorer.ipynb"
    nbformat.write(nb, path)
    return path


def voila_command(notebook: PathLike, port: int) -> list[str]:
    """The Voilà command line serving ``notebook`` on 127.0.0.1:``port`` (no browser opened)."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        f"--port={int(port)}",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=True",
    ]


def check_port(port: int) -> int:
    """``port`` when it is a TCP port free on 127.0.0.1, else AssessKitError saying so.

    Voilà would otherwise move to another port on its own (so the address announced would
    be wrong) or stop with a traceback.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise AssessKitError(f"port {port!r}: expected a port number from 1 to 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Voilà's server binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise AssessKitError(
                f"port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
                "is another explorer or server using it? Give another with --port"
            ) from None
    return port


def serve(
    scheme: PathLike,
    data: PathLike,
    *,
    units: PathLike | None = None,
    targets: PathLike | None = None,
    grades: PathLike | None = None,
    year: int | None = None,
    port: int = 8866,
    save_to: PathLike | None = None,
    encoding: str | None = None,
    extra_args: Sequence[str] = (),
    announce: Callable[[str], None] | None = None,
) -> int:
    """Validate the inputs, then serve the explorer through Voilà until it stops.

    Returns Voilà's exit code. A scheme id is kept as an id; files are passed by
    absolute path (the notebook runs in a temporary folder). ``announce`` is called with
    the address once the inputs are valid.

    Raises
    ------
    SchemeError, DataError
        Before Voilà starts, with every problem in the inputs.
    AssessKitError, OutputError
        Before the inputs are read: a port that is not free, or a ``save_to`` that cannot
        be a scheme file (a folder, a missing folder, not ``.yaml``, a name that is no id).
    """
    check_port(port)
    if save_to is not None:
        check_variant_path(save_to)
    inp = load_inputs(
        scheme, data, units=units, targets=targets, grades=grades, years=year, encoding=encoding
    )
    year = explored_year(inp.scheme, inp.panel, year)
    scheme_arg = str(inp.scheme_path.resolve()) if inp.scheme_path is not None else scheme
    save = check_variant_path(
        Path(save_to) if save_to is not None else Path.cwd() / f"{inp.scheme.id}_variant.yaml"
    ).resolve()
    with tempfile.TemporaryDirectory(prefix="assesskit-explore-") as tmp:
        nb = explorer_notebook(
            tmp, scheme_arg, data, units=units, targets=targets, grades=grades, year=year,
            save_to=save, encoding=encoding,
        )  # fmt: skip
        if announce is not None:
            announce(f"explorer: http://127.0.0.1:{int(port)}/ (Ctrl-C stops it)")
        try:
            return subprocess.call([*voila_command(nb, port), *extra_args], cwd=tmp)
        except KeyboardInterrupt:  # pragma: no cover - Ctrl-C: Voilà stops with us
            return 0
