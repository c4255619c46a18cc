"""Files for the shell: YAML inputs read with located errors, all-or-nothing output sets
(file sets and whole-folder swaps), spreadsheet-safe CSV cells, and input hashes.

Every operating-system failure while writing (disk full, permission denied, read-only
file system, a path that is a file …) becomes an :class:`~assesskit.exceptions.OutputError`
that names the path, says what failed and what to do; the earlier files are left as they
were.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .exceptions import AssessKitError, OutputError

CSV_ENCODING = "utf-8-sig"
"""Output CSVs carry a BOM so that Excel (also on Chinese Windows) reads the labels right."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
Injection"). Text cells starting with one of them are written with a leading ``'``."""


# --------------------------------------------------------------------------- YAML


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one YAML mapping."""

    def __init__(self, key: object, first: yaml.Node, again: yaml.Node):
        self.key = key
        super().__init__(
            None,
            None,
            f"key '{key}' is given twice in one mapping (first on line {first.start_mark.line + 1}, "
            f"column {first.start_mark.column + 1}); give each key once",
            again.start_mark,
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping.

    PyYAML keeps the last of duplicate keys silently (YAML 1.2 says keys must be unique);
    the standard fix is a loader subclass that checks while constructing mappings. Keys
    brought in by a ``<<`` merge may be overridden, as YAML allows.
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, yaml.Node] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise DuplicateKeyError(key, first, key_node)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str) -> object:
    """Parse YAML text safely, refusing duplicate keys (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: str | os.PathLike, error: type[AssessKitError], what: str) -> object:
    """Parse a UTF-8 YAML file; any failure raises ``error`` naming the file (and the line).

    A key given twice in one mapping is an error (naming the key and both lines), not
    "the last one wins".

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
    except IsADirectoryError:
        raise error(f"{p}: is a folder, not a {what} file") from None
    except UnicodeDecodeError as exc:
        raise error(f"{p}: {what} files must be UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {what} ({exc.strerror})") from None
    if "\x00" in text:
        raise error(f"{p}: not a text file (it contains NUL bytes); a {what} file is UTF-8 YAML")
    if not text.strip():
        raise error(f"{p}: the {what} file is empty")
    try:
        return load_yaml_text(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise error(f"{p}: line {mark.line + 1}, column {mark.column + 1}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise error(f"{p}: broken YAML{at}: {getattr(exc, 'problem', None) or exc}") from None


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- CSV cells


def _starts_with(s: pd.Series, prefixes: tuple[str, ...]) -> pd.Series | None:
    """Boolean mask of the string cells of ``s`` starting with one of ``prefixes``.

    None for columns that cannot hold text. Vectorised with pandas' ``.str`` methods,
    which give NA for the non-string cells of object columns (numbers stay untouched).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):  # test each category once, not each row
        hit = _starts_with(pd.Series(s.cat.categories, dtype=object), prefixes)
        if hit is None:
            return None
        by_code = np.append(hit.to_numpy(dtype=bool), False)  # code −1 (missing) → False
        return pd.Series(by_code[s.cat.codes.to_numpy()], index=s.index)
    if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        return None
    try:
        hit = s.str.startswith(prefixes)
    except AttributeError:  # an object column without any strings
        return None
    return hit if hit.dtype == bool else hit.astype(object).fillna(False).astype(bool)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells that a spreadsheet would run as a formula.

    Cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
    neutralised (OWASP's advice on CSV injection). Only cells holding strings change;
    numbers — a negative number included — are untouched, so numeric columns stay
    numeric. Returns ``df`` itself when nothing needs neutralising.
    """
    out = None
    for col in df.columns:
        hit = _starts_with(df[col], FORMULA_PREFIXES)
        if hit is not None and hit.any():
            out = df.copy() if out is None else out
            col_out = out[col].astype(object)
            col_out[hit] = "'" + col_out[hit].astype(str)
            out[col] = col_out
    return df if out is None else out


def unneutralise_formulas(s: pd.Series) -> pd.Series:
    """Undo :func:`neutralise_formulas` on a text column read back from our own CSVs."""
    hit = _starts_with(s, tuple("'" + c for c in FORMULA_PREFIXES))
    if hit is None or not hit.any():
        return s
    out = s.astype(object)
    out[hit] = out[hit].astype(str).str[1:]
    return out


# --------------------------------------------------------------------------- writing


def _hint(exc: OSError) -> str:
    return {
        errno.ENOSPC: "free some space on that disk, or write to another folder",
        errno.EDQUOT: "free some space (disk quota exceeded), or write to another folder",
        errno.EACCES: "check the folder's permissions, or write to another folder",
        errno.EPERM: "check the folder's permissions, or write to another folder",
        errno.EROFS: "the file system is read-only; write to another folder",
        errno.ENOTDIR: "a part of the path is a file; give a path made of folders",
        errno.EISDIR: "a folder is in the way; give another path",
        errno.ENAMETOOLONG: "give a shorter path",
    }.get(exc.errno, "check the path and try again")


def describe_os_error(exc: OSError, doing: str, path: str | os.PathLike | None = None) -> str:
    """One line for an OS failure: which path, what failed and why, what to do."""
    where = str(exc.filename or path or "")
    reason = exc.strerror or str(exc)
    return f"{where + ': ' if where else ''}cannot {doing} ({reason}); {_hint(exc)}"


def output_error(exc: OSError, path: str | os.PathLike, doing: str) -> OutputError:
    """An :class:`OutputError` for an OS failure while writing into ``path``."""
    return OutputError(
        f"{describe_os_error(exc, doing, path)}. Nothing was written: the files in {path} are as they were"
    )


def check_output_dir(out_dir: str | os.PathLike) -> Path:
    """Refuse an output folder that cannot be one, before any work is done.

    Raises
    ------
    OutputError
        When ``out_dir`` (or a parent) exists and is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; give a folder for the outputs")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{parent}: is a file, so {out} cannot be a folder; give another path")
            break
    return out


# pandas' ``DataFrame.to_csv`` spends ~7 µs a row on the item table (17 million rows at
# national scale: two minutes); pyarrow's CSV writer is fast but quotes every string and
# writes floats its own way ("1" for 1.0). No library writes pandas' bytes fast, so the
# item tables are encoded here with Arrow compute kernels, column by column: the same
# bytes as ``to_csv`` (tested on awkward values), at a tenth of the cost.
_FORMULA_RE = "^[" + "".join("\\" + c if c in "-" else c for c in FORMULA_PREFIXES) + "]"


def _float_text(v: np.ndarray):
    """Floats as pandas writes them (Python's repr: ``1.0``, ``1e-05``), null for NaN.

    Arrow's shortest-digit cast agrees with repr for non-integers of magnitude 1e-4 to
    1e10, and integers are written from int64 with '.0'; the rest (tiny, huge, −0.0, inf)
    goes through numpy's repr-exact conversion.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    v = np.asarray(v, dtype=float)
    a = np.abs(v)
    with np.errstate(invalid="ignore"):
        whole = np.floor(v) == v
        ints = whole & (a < 1e16) & ~((v == 0) & np.signbit(v))
        plain = ~whole & (a >= 1e-4) & (a < 1e10)
    parts = [pc.cast(pa.array(v, mask=~plain), pa.string())]
    if ints.any():
        as_int = pa.array(np.where(ints, v, 0.0).astype(np.int64), mask=~ints)
        parts.append(pc.binary_join_element_wise(pc.cast(as_int, pa.string()), ".0", ""))
    rest = ~(ints | plain | np.isnan(v))
    if rest.any():
        exotic = np.full(v.size, None, dtype=object)
        exotic[rest] = v[rest].astype(np.dtypes.StringDType()).astype(object)
        parts.append(pa.array(exotic, pa.string()))
    return pc.coalesce(*parts) if len(parts) > 1 else parts[0]


def _text_cells(values: np.ndarray):
    """Text (object) cells as pandas writes them: missing '', numbers by repr, formula
    prefixes neutralised, quoted when they hold a comma, quote or line break."""
    import pyarrow as pa

    s = pd.Series(values, dtype=object)
    is_str = s.str.len().notna().to_numpy()
    missing = s.isna().to_numpy()
    num = ~is_str & ~missing
    text = np.where(is_str, s.to_numpy(), "").astype(object)
    if num.any():  # numbers among text (label grades beside rates): str(), as pandas does
        text[num] = s[num].astype(str).to_numpy(dtype=object)
    return _quote(pa.array(text, pa.string()), neutralise=True)


def _quote(arr, *, neutralise: bool):
    """Arrow strings neutralised (leading ``'`` before a formula prefix) and quoted as
    pandas' ``QUOTE_MINIMAL`` does; nulls stay null (written as empty cells)."""
    import pyarrow.compute as pc

    if neutralise:
        hit = pc.match_substring_regex(arr, _FORMULA_RE)
        if pc.any(hit).as_py():
            arr = pc.if_else(hit, pc.binary_join_element_wise("'", arr, ""), arr)
    # the csv module's QUOTE_MINIMAL with lineterminator "\n": a comma, a quote or a "\n"
    need = pc.match_substring_regex(arr, '[,"\n]')
    if pc.any(need).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
        arr = pc.if_else(need, quoted, arr)
    return arr


def _column_cells(s: pd.Series):
    """One column's CSV cells as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(s.dtype, pd.ArrowDtype):  # Arrow-backed text (rendered reasons): as it is
        return _quote(pa.array(s).cast(pa.string()), neutralise=True)
    if isinstance(s.dtype, pd.CategoricalDtype):  # each category encoded once, then taken
        cats = _text_cells(np.append(s.cat.categories.to_numpy(dtype=object), None))
        codes = s.cat.codes.to_numpy().astype(np.int64)
        return pc.take(cats, np.where(codes < 0, len(cats) - 1, codes))
    if s.dtype.kind == "f":
        return _float_text(s.to_numpy())
    if s.dtype.kind in "iu":  # numpy or nullable integers (<NA> → an empty cell)
        return pc.cast(pa.array(s, from_pandas=True), pa.string())
    if s.dtype.kind == "b":
        return pa.array(np.where(s.to_numpy(), "True", "False"), pa.string())
    return _text_cells(s.to_numpy(dtype=object))


def csv_bytes(frame: pd.DataFrame, *, header: bool = True) -> bytes:
    """``frame`` as CSV bytes (UTF-8, no BOM): exactly ``neutralise_formulas(frame).to_csv(
    index=False, lineterminator="\\n")`` encoded, for columns of floats, integers, booleans,
    text, categoricals and Arrow-backed text (see the comment above :func:`_float_text`;
    other dtypes are written by pandas)."""
    return b"".join(_csv_parts(frame, header))


def _csv_parts(frame: pd.DataFrame, header: bool) -> list:
    """The header's bytes and the body (a view of an Arrow buffer: no copy)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    head = b""
    if header:
        names = _quote(pa.array([str(c) for c in frame.columns], pa.string()), neutralise=False)
        head = (",".join(names.to_pylist()) + "\n").encode("utf-8")
    if not len(frame):
        return [head]
    plain = frame.columns.is_unique and not isinstance(frame.columns, pd.MultiIndex)
    if not (plain and all(_encodable(t) for t in frame.dtypes)):  # e.g. nullable booleans: pandas
        body = neutralise_formulas(frame).to_csv(index=False, header=False, lineterminator="\n")
        return [head, body.encode("utf-8")]
    args: list = []
    for c in frame.columns:
        args += [_column_cells(frame[c]), ","]
    args[-1] = "\n"
    opts = pc.JoinOptions(null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(*args, "", options=opts)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return [head, memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]]


def _encodable(dtype) -> bool:
    """Dtypes :func:`csv_bytes` encodes itself (others go through pandas)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable integers; not Boolean, Float64 …
        return pd.api.types.is_integer_dtype(dtype)
    return isinstance(dtype, np.dtype) and dtype.kind in "fiubO"


def pipelined(items: Iterable, fn: Callable, depth: int = 2) -> Iterator:
    """``fn(item)`` for each item, in order, computed in ``depth`` threads with at most
    ``depth`` results in flight (so memory holds a few chunks, not all of them).

    The encoders (Arrow compute kernels, numpy) release the GIL, so on two cores the next
    chunk is encoded while this one is built or written.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=depth) as pool:
        pending: deque = deque()
        for x in items:
            pending.append(pool.submit(fn, x))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def write_csv_chunks(
    path: str | os.PathLike,
    frames: Iterable[pd.DataFrame],
    *,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> None:
    """Write ``frames`` one after the other as one CSV file (the header once, from the first).

    The same bytes as one ``DataFrame`` written by :func:`write_outputs` (UTF-8 with BOM,
    formula cells neutralised; see :func:`csv_bytes`), whatever the chunking; a few chunks
    are in memory at a time. ``prepare`` is applied to each frame before it is encoded
    (in the encoding threads, see :func:`pipelined`). ``frames`` must give at least one
    frame (an empty one writes the header only).
    """

    def encode(job: tuple[int, pd.DataFrame]) -> list:
        i, frame = job
        return _csv_parts(prepare(frame) if prepare else frame, i == 0)

    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")  # the BOM of CSV_ENCODING (utf-8-sig)
        first = True
        for parts in pipelined(enumerate(frames), encode):
            for part in parts:
                f.write(part)
            first = False
        if first:
            raise ValueError(f"{path}: no table to write (not even a header)")


def _write_one(p: Path, obj: pd.DataFrame | dict | str | bytes | Callable[[Path], None]) -> None:
    if callable(obj):  # a writer of its own format (Parquet, xlsx), called with the path
        obj(p)
        return
    if isinstance(obj, pd.DataFrame):  # pandas' to_csv bytes, encoded faster (csv_bytes)
        write_csv_chunks(p, [obj])
        return
    if isinstance(obj, dict):
        obj = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    data = obj.encode("utf-8") if isinstance(obj, str) else obj
    with open(p, "wb") as f:
        f.write(data)


def _write_all(folder: Path, files: Mapping[str, object], final: Path) -> None:
    """Write ``files`` into the temporary ``folder``; errors name the file's final path."""
    for name, obj in files.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise OutputError(f"{name!r}: an output file name may not contain a folder")
        try:
            _write_one(folder / name, obj)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(final / name)) from None


def write_outputs(out_dir: str | os.PathLike, files: Mapping[str, pd.DataFrame | dict | str]) -> list[Path]:
    """Write a set of files into ``out_dir`` all-or-nothing.

    Everything is first written into a temporary folder beside ``out_dir``; only when every
    file is complete are they moved into place, each with an atomic ``os.replace``. If a
    move fails (or is interrupted), the files already moved are put back as they were, so
    the folder holds the earlier set or the new one. Other files in ``out_dir`` are never
    touched. DataFrames are written as CSV (UTF-8 with BOM, formula cells neutralised, see
    :func:`neutralise_formulas`), dicts as JSON, strings as UTF-8 text, bytes as they are;
    a callable is called with the (temporary) path and writes the file itself.

    Raises
    ------
    OutputError
        When the folder cannot be created or a file cannot be written (disk full,
        permissions, read-only file system …), naming the path and what to do.
    """
    out = check_output_dir(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".assesskit-", dir=out))
    except OSError as exc:
        raise output_error(exc, out, "create the output folder") from None
    backups: list[tuple[Path, Path | None]] = []  # (target, where its earlier version waits)
    try:
        try:
            _write_all(tmp, files, out)
        except OSError as exc:
            raise output_error(exc, out, "write the outputs") from None
        old = tmp / ".old"
        old.mkdir()
        try:
            for name in files:
                target = out / name
                if target.exists():
                    aside = old / name
                    _keep(target, aside)
                    backups.append((target, aside))
                else:
                    backups.append((target, None))
                os.replace(tmp / name, target)
        except BaseException as exc:
            _rollback(backups)
            if isinstance(exc, OSError):
                raise output_error(exc, out, "move the outputs into place") from None
            raise
        return [out / name for name in files]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _keep(target: Path, aside: Path) -> None:
    """Keep the earlier version of ``target`` reachable at ``aside`` for a rollback."""
    try:
        os.link(target, aside)  # cheap: a second name for the same file
    except OSError:  # file systems without hard links
        shutil.copy2(target, aside)


def _rollback(backups: list[tuple[Path, Path | None]]) -> None:
    """Put back the earlier versions of the files already replaced (best effort)."""
    for target, aside in reversed(backups):
        try:
            if aside is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(aside, target)
        except OSError:  # pragma: no cover - nothing more can be done; the error is raised
            pass


def replace_folder(out_dir: str | os.PathLike, files: Mapping[str, pd.DataFrame | dict | str]) -> list[Path]:
    """Replace the whole output folder ``out_dir`` by a new set of files, as one unit.

    The new set is written into a temporary sibling folder and swapped in (see
    :func:`staged_folder`): a reader sees the earlier set or the new set, never a mix, and
    a failure (or Ctrl-C) leaves the earlier folder as it was. Use it for folders that hold
    one command's outputs only (see :func:`check_replaceable`).

    Raises
    ------
    OutputError
        Naming the path and what to do, with the earlier folder as it was.
    """
    out = Path(out_dir)
    with staged_folder(out) as new:
        try:
            _write_all(new, files, out)
        except OSError as exc:
            raise output_error(exc, out, "write the outputs") from None
    return [out / name for name in files]


@contextmanager
def staged_folder(out_dir: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling of ``out_dir`` to fill; swapped in as a whole when the block ends.

    The swap renames the earlier folder aside, renames the new one in, and deletes the
    earlier one; if the second rename fails (or is interrupted) the earlier folder is put
    back. When the block raises, the new folder is deleted and ``out_dir`` is untouched;
    an :class:`AssessKitError` raised in the block has the temporary path in its message
    replaced by ``out_dir``.

    Raises
    ------
    OutputError
        Naming the path and what to do.
    """
    out = check_output_dir(out_dir)
    if out.is_symlink():  # swap the folder the link points to, and keep the link
        out = out.resolve()
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
        # mkdtemp makes 0700: keep the earlier folder's mode, or the ordinary one
        os.chmod(new, out.stat().st_mode & 0o7777 if out.is_dir() else 0o777 & ~_umask())
    except OSError as exc:
        raise output_error(exc, out, "create the output folder") from None
    try:
        try:
            yield new
        except AssessKitError as exc:
            if str(new) not in str(exc):
                raise
            fix = str(new), str(out)
            probs = [
                type(p)(p.where.replace(*fix), p.message.replace(*fix), p.severity) for p in exc.problems
            ]
            raise type(exc)(exc.message.replace(*fix), probs) from None
        _swap(new, out)
    finally:
        shutil.rmtree(new, ignore_errors=True)


def _swap(new: Path, out: Path) -> None:
    """Rename ``out`` aside, ``new`` in, and delete the earlier one; undo on failure."""
    aside: Path | None = None
    keep_aside = False
    try:
        if out.exists():
            try:
                aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            except OSError as exc:
                raise output_error(exc, out, "make room for the swap") from None
        earlier = aside / out.name if aside is not None else None
        moved = False
        try:
            if earlier is not None:
                os.rename(out, earlier)
                moved = True
            os.rename(new, out)
        except BaseException as exc:
            if moved:
                try:
                    os.rename(earlier, out)  # put the earlier set back
                except OSError:  # pragma: no cover - keep it and say where
                    keep_aside = True
                    raise OutputError(
                        f"{out}: the swap failed and the earlier outputs could not be put back; "
                        f"they are in {earlier}"
                    ) from None
            if isinstance(exc, OSError):
                bare = OSError(exc.errno, exc.strerror)  # temporary names would only confuse
                raise output_error(bare, out, "swap the new outputs in") from None
            raise
    finally:
        if aside is not None and not keep_aside:
            shutil.rmtree(aside, ignore_errors=True)


def check_replaceable(out_dir: str | os.PathLike, names: set[str] | frozenset[str]) -> Path:
    """Refuse, before any work, a folder that :func:`replace_folder` must not replace.

    The folder may be absent, empty, or hold only files of the same output set (``names``):
    anything else would be deleted by the swap, so it is refused with a clear message.
    """
    out = check_output_dir(out_dir)
    if out.is_dir():
        try:
            other = sorted(p.name for p in out.iterdir() if p.name not in names)
        except OSError as exc:
            raise output_error(exc, out, "read the output folder") from None
        if other:
            shown = ", ".join(other[:5]) + (" …" if len(other) > 5 else "")
            raise OutputError(
                f"{out}: holds other files ({shown}); the outputs replace the whole folder, so give "
                "a new or empty folder, or the folder of an earlier run of the same command"
            )
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
