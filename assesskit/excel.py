"""Schemes as Excel workbooks: read a documented sheet layout into a scheme, write a scheme
back into the same layout (so a bundled scheme is a template).

The layout (the user guide's "Schemes in Excel", docs/user/excel.md, shows an example):

``items``
    One row per item, in document order: its path (``line``, ``section`` — nested sections
    joined by ``/`` — and ``item``), ``label``, ``label_en``, ``points``, ``unit_kind``,
    ``rule`` (the rule type), ``indicator``, ``op``, ``target``, ``target_table``,
    ``target_<category>`` (one column per category, for per-category targets),
    ``criterion`` (free text of the scoring standard), ``method``, ``responsible``,
    ``assumption`` (the item's), ``rule_assumption`` (the rule's) and ``yaml``. A row with ``item`` empty describes the line (``section``
    empty too) or the section it names (label, points, unit kind …); such rows are
    optional: a line or section without one takes its id as label and the sum of its
    children's points. ``yaml`` holds, as a YAML mapping, whatever the columns cannot
    express (``{rule: {bands: [...]}}``, ``{aggregate: mean}``, …); it is merged into the
    node. A row without a rule becomes an inspector-graded item (points from 0 to the
    item's points, read from a grades column ``g_<item>``) with an ``assumption`` saying so.
``indicators`` (optional)
    One row per indicator: ``id``, ``label``, ``label_en``, ``unit``, ``numerator`` and
    ``denominator`` (comma-separated column names, ``-x`` subtracts), ``scale``, ``column``,
    ``kind``, ``zero_denominator``, ``min``, ``max``, ``yaml``. An indicator that an item
    names but this sheet does not is a plain column of that name.
``scheme``
    Key / value rows for the scheme-level fields: ``id``, ``label``, ``label_en``,
    ``source``, ``years`` (``[2016, 2016]`` or one year), ``missing``, ``floor``, ``kinds``
    and ``categories`` (YAML mappings), and ``assumptions`` (one row each, key repeated).
``yaml`` (optional)
    A YAML document, one line per row in column A, with the scheme-level parts that are
    not tables of items: ``adjustments``, ``vetoes``, ``outcomes`` and any other key.

Cells that look like formulas (``=``, ``+``, ``-``, ``@``) are written as text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ._io import load_yaml_text
from .exceptions import Problem, SchemeError
from .scheme import SEP, Indicator, Item, Scheme, parse_scheme

ITEM_COLUMNS = (
    "line",
    "section",
    "item",
    "label",
    "label_en",
    "points",
    "unit_kind",
    "rule",
    "indicator",
    "op",
    "target",
    "target_table",
)
"""The fixed columns of the ``items`` sheet, before the ``target_<category>`` columns."""

ITEM_TEXT_COLUMNS = ("criterion", "method", "responsible", "assumption", "rule_assumption", "yaml")
"""The columns of the ``items`` sheet after the ``target_<category>`` columns."""

INDICATOR_COLUMNS = (
    "id",
    "label",
    "label_en",
    "unit",
    "numerator",
    "denominator",
    "scale",
    "column",
    "kind",
    "zero_denominator",
    "min",
    "max",
    "yaml",
)

ALIASES = {
    "线": "line",
    "条线": "line",
    "类别": "section",
    "项目": "item",
    "编号": "item",
    "考核内容": "label",
    "名称": "label",
    "分值": "points",
    "单位类型": "unit_kind",
    "规则": "rule",
    "指标": "indicator",
    "比较": "op",
    "目标": "target",
    "目标表": "target_table",
    "评分标准": "criterion",
    "考核方式": "method",
    "责任科室": "responsible",
    "假设": "assumption",
    "规则假设": "rule_assumption",
}
"""Chinese headers accepted for the ``items`` sheet's columns."""

TABLE_KEYS = ("adjustments", "vetoes", "outcomes")
"""Scheme-level keys written to the ``yaml`` sheet rather than the ``scheme`` sheet."""

SHEETS = ("items", "indicators", "scheme", "yaml")

_NODE_TEXT = ("label", "label_en", "method", "responsible", "assumption")


def _dump_flow(obj: Any) -> str:
    return yaml.safe_dump(
        obj, allow_unicode=True, sort_keys=False, default_flow_style=True, width=10**9
    ).strip()


# =========================================================================== export


def _target_cells(target: Any, categories: list[str]) -> tuple[dict[str, Any], Any]:
    """Cells for a target, and what the cells cannot hold (None when they hold it all)."""
    if target is None or isinstance(target, int | float):
        return {"target": target}, None
    if isinstance(target, dict) and set(target) <= {"by_category", "default"}:
        cats = target.get("by_category", {})
        if set(cats) <= set(categories):
            return {"target": target.get("default")} | {f"target_{c}": v for c, v in cats.items()}, None
    if isinstance(target, dict) and set(target) <= {"table", "default"}:
        return {"target_table": target["table"], "target": target.get("default")}, None
    return {}, target


def _item_row(d: dict, categories: list[str]) -> dict[str, Any]:
    """The ``items`` row of one item dumped with ``exclude_unset``."""
    d = dict(d)
    row = {k: d.pop(k, None) for k in ("label", "label_en", "points", *ITEM_TEXT_COLUMNS[:4])}
    row["item"] = d.pop("id")
    rule = dict(d.pop("rule"))
    row["rule"], row["indicator"], row["op"] = rule.pop("type"), rule.pop("indicator"), rule.pop("op", None)
    row["rule_assumption"] = rule.pop("assumption", None)
    if "target" in rule:
        cells, rest = _target_cells(rule.pop("target"), categories)
        row |= cells
        if rest is not None:
            rule["target"] = rest
    if rule:
        d["rule"] = rule
    row["yaml"] = _dump_flow(d) if d else None
    return row


def _node_rows(node: Any, path: tuple[str, ...], categories: list[str], rows: list[dict]) -> None:
    """Rows for a line or section and (recursively) its children, in document order."""
    d = node.model_dump(mode="json", exclude_unset=True)
    d.pop("items")
    row = {k: d.pop(k, None) for k in ("label", "label_en", "points", "unit_kind", *_NODE_TEXT[2:])}
    d.pop("id")
    row |= {"line": path[0], "section": "/".join(path[1:]) or None, "yaml": _dump_flow(d) if d else None}
    rows.append(row)
    for child in node.items:
        if isinstance(child, Item):
            cells = _item_row(child.model_dump(mode="json", exclude_unset=True), categories)
            rows.append(cells | {"line": path[0], "section": "/".join(path[1:]) or None})
        else:
            _node_rows(child, (*path, child.id), categories, rows)


def _indicator_row(ind_id: str, ind: Indicator) -> dict[str, Any]:
    d = ind.model_dump(mode="json", exclude_unset=True)
    row = {k: d.pop(k, None) for k in INDICATOR_COLUMNS[1:-1]}
    for k in ("numerator", "denominator"):
        if row[k] is not None:
            row[k] = ", ".join(row[k])
    return row | {"id": ind_id, "yaml": _dump_flow(d) if d else None}


def scheme_workbook_tables(scheme: Scheme) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The sheets of a scheme's workbook as ``{sheet: (header, rows)}`` (no file).

    Every part of the scheme is in a cell: what the columns cannot express is in the
    ``yaml`` columns and the ``yaml`` sheet, so :func:`read_scheme_workbook` gives the
    same scheme back.
    """
    categories = list(scheme.categories)
    rows: list[dict] = []
    for line in scheme.lines:
        _node_rows(line, (line.id,), categories, rows)
    item_cols = [*ITEM_COLUMNS, *(f"target_{c}" for c in categories), *ITEM_TEXT_COLUMNS]
    top = scheme.model_dump(mode="json", exclude_unset=True)
    kv: list[list[Any]] = []
    for key, value in top.items():
        if key in ("lines", "indicators", *TABLE_KEYS):
            continue
        if key == "assumptions":
            kv += [["assumptions", a] for a in value]
        elif isinstance(value, list | dict):
            kv.append([key, _dump_flow(value)])
        else:
            kv.append([key, value])
    rest = {k: top[k] for k in TABLE_KEYS if k in top}
    yaml_lines = ["# adjustments, vetoes and outcomes of the scheme, as YAML (one line per row)"]
    if rest:
        text = yaml.safe_dump(rest, allow_unicode=True, sort_keys=False, width=100)
        yaml_lines += text.rstrip("\n").split("\n")
    return {
        "items": (item_cols, [[r.get(c) for c in item_cols] for r in rows]),
        "indicators": (
            list(INDICATOR_COLUMNS),
            [
                [r[c] for c in INDICATOR_COLUMNS]
                for r in (_indicator_row(k, v) for k, v in scheme.indicators.items())
            ],
        ),
        "scheme": (["key", "value"], kv),
        "yaml": ([], [[line] for line in yaml_lines]),
    }


def scheme_to_workbook(scheme: Scheme) -> bytes:
    """The ``.xlsx`` bytes of a scheme's workbook (see the module's layout)."""
    from .writers import workbook_bytes

    sheets = scheme_workbook_tables(scheme)
    return workbook_bytes(
        [(name, header, rows, {}) for name, (header, rows) in sheets.items()],
        freeze=lambda name: name != "yaml",
    )


# =========================================================================== import


class _Cells:
    """Problems found while reading cells, with the sheet, row and column of each."""

    def __init__(self, where: str):
        self.where = where
        self.problems: list[Problem] = []
        self.flagged: set[tuple[str, int]] = set()  # (sheet, row) with a problem

    def add(self, sheet: str, row: int, col: str | None, message: str) -> None:
        at = f"sheet {sheet}, row {row}" + (f", column {col}" if col else "")
        self.problems.append(Problem(f"{self.where}: {at}", message))
        self.flagged.add((sheet, row))


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _sheet_rows(ws) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header (normalised) and ``(row number, {column: value})`` of the non-empty rows."""
    it = ws.iter_rows(values_only=True)
    head = next(it, None) or ()
    header = [ALIASES.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in head]
    rows = []
    for n, values in enumerate(it, start=2):
        vals = {
            h: (v.strip() or None if isinstance(v, str) else v)
            for h, v in zip(header, values, strict=False)
            if h
        }
        if any(v is not None for v in vals.values()):
            rows.append((n, vals))
    return header, rows


def _yaml_cell(value: Any, cells: _Cells, sheet: str, row: int, col: str, mapping: bool = True) -> Any:
    if not isinstance(value, str):
        return value
    try:
        out = load_yaml_text(value)
    except yaml.YAMLError as exc:
        cells.add(sheet, row, col, f"not YAML ({getattr(exc, 'problem', None) or exc}): {value[:60]!r}")
        return None
    if mapping and not isinstance(out, dict):
        cells.add(
            sheet,
            row,
            col,
            f"expected a YAML mapping such as {{rule: {{relative: true}}}}, got {value[:60]!r}",
        )
        return None
    return out


def _merge(base: dict, extra: Mapping) -> dict:
    """``base`` updated by ``extra``, nested mappings merged key by key."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _number(value: Any, cells: _Cells, sheet: str, row: int, col: str) -> Any:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        cells.add(sheet, row, col, f"expected a number, got {value!r}")
        return None


def _rule(vals: dict, cats: list[str], cells: _Cells, n: int, col) -> dict:
    """The rule mapping from a row's rule columns (without the ``yaml`` cell)."""
    rule = {"type": vals["rule"], "indicator": vals.get("indicator") or vals["item"]}
    if vals.get("op") is not None:
        rule["op"] = str(vals["op"])
    if vals.get("rule_assumption") is not None:
        rule["assumption"] = str(vals["rule_assumption"])
    target = _number(vals.get("target"), cells, "items", n, col("target"))
    by_cat = {c: _number(vals.get(f"target_{c}"), cells, "items", n, col(f"target_{c}")) for c in cats}
    by_cat = {c: v for c, v in by_cat.items() if v is not None}
    if vals.get("target_table") is not None:
        rule["target"] = {"table": str(vals["target_table"])} | (
            {"default": target} if target is not None else {}
        )
    elif by_cat:
        rule["target"] = {"by_category": by_cat} | ({"default": target} if target is not None else {})
    elif target is not None:
        rule["target"] = target
    return rule


def _item(vals: dict, cats: list[str], cells: _Cells, n: int, col, graded: list[tuple[str, str]]) -> dict:
    """An item mapping from its row; a row without a rule becomes inspector-graded."""
    item = {"id": str(vals["item"])}
    for k in ("label", "label_en", "method", "responsible", "assumption"):
        if vals.get(k) is not None:
            item[k] = str(vals[k])
    if "label" not in item:
        cells.add("items", n, col("label"), "empty; give the item's name")
    points = _number(vals.get("points"), cells, "items", n, col("points"))
    if points is not None:
        item["points"] = points
    extra = _yaml_cell(vals.get("yaml"), cells, "items", n, col("yaml")) or {}
    criterion = vals.get("criterion")
    if criterion is not None and "criterion" in Item.model_fields:
        item["criterion"] = str(criterion)
    elif criterion is not None:
        item["assumption"] = "; ".join(x for x in (f"评分标准: {criterion}", item.get("assumption")) if x)
    if vals.get("rule") is not None:
        item["rule"] = _rule(vals, cats, cells, n, col)
    elif "rule" not in extra:
        ind = str(vals.get("indicator") or f"g_{item['id']}")
        item["rule"] = {"type": "graded", "indicator": ind, "scale": "points"}
        say = (
            f"no rule in the workbook (sheet items, row {n}): inspector-graded in points from 0 to "
            f"{points if points is not None else 'the item points'} (grades column '{ind}')"
        )
        item["assumption"] = "; ".join(x for x in (say, item.get("assumption")) if x)
        graded.append((item["id"], ind))
    return _merge(item, extra)


def _container(vals: dict, cells: _Cells, n: int, col) -> dict:
    node: dict[str, Any] = {}
    for k in _NODE_TEXT:
        if vals.get(k) is not None:
            node[k] = str(vals[k])
    if vals.get("points") is not None:
        node["points"] = _number(vals["points"], cells, "items", n, col("points"))
    if vals.get("unit_kind") is not None:
        node["unit_kind"] = str(vals["unit_kind"])
    return _merge(node, _yaml_cell(vals.get("yaml"), cells, "items", n, col("yaml")) or {})


class _Tree:
    """Lines and sections built from the rows, children in the order they first appear."""

    def __init__(self):
        self.nodes: dict[tuple[str, ...], dict] = {}
        self.rows: dict[tuple[str, ...], int] = {}
        self.kinds: dict[tuple[str, ...], set[str]] = {}
        self.explicit: set[tuple[str, ...]] = set()

    def container(self, path: tuple[str, ...]) -> dict:
        if path not in self.nodes:
            self.nodes[path] = {"id": path[-1], "items": []}
            if len(path) > 1:
                self.container(path[:-1])["items"].append(self.nodes[path])
        return self.nodes[path]

    def finish(self, node: dict, path: tuple[str, ...], cells: _Cells) -> None:
        """Fill the defaults of the containers without a row of their own (bottom up)."""
        for child in node["items"]:
            if "items" in child:
                self.finish(child, (*path, child["id"]), cells)
        node.setdefault("label", node["id"])
        agg = node.get("aggregate", "sum")
        pts = [c.get("points") for c in node["items"]]
        if "points" not in node and agg == "sum" and all(isinstance(p, int | float) for p in pts):
            node["points"] = sum(pts)
        others = self.kinds.get(path, set()) - {node.get("unit_kind")}
        if len(path) == 1 and "unit_kind" in node and others:
            cells.add(
                "items",
                self.rows.get(path, 0),
                "unit_kind",
                f"line '{path[0]}' is for '{node['unit_kind']}' but rows of it name {', '.join(sorted(others))}",
            )
        if len(path) == 1 and "unit_kind" not in node:
            kinds = self.kinds.get(path, set())
            if len(kinds) == 1:
                node["unit_kind"] = kinds.pop()
            else:
                got = ", ".join(sorted(kinds)) or "none"
                cells.add(
                    "items",
                    self.rows.get(path, 0),
                    "unit_kind",
                    f"line '{path[0]}' needs one unit kind (got: {got})",
                )


def _read_items(ws, cats: list[str], cells: _Cells) -> tuple[list[dict], dict[str, int], list]:
    """Lines from the ``items`` sheet, the row of each node id, the items graded by default."""
    header, rows = _sheet_rows(ws)
    where = {h: _letter(i) for i, h in enumerate(header) if h}

    def col(name: str) -> str:
        return f"{where.get(name, '?')} ({name})"

    for need in ("line", "item", "label", "points"):
        if need not in where:
            cells.add(
                "items",
                1,
                None,
                f"no column '{need}' (the header row names the columns: {', '.join(ITEM_COLUMNS)} …)",
            )
    if cells.problems:
        return [], {}, []
    if not rows:
        cells.add("items", 2, None, "no rows below the header: give one row per item")
    tree, node_rows, graded = _Tree(), {}, []
    for n, vals in rows:
        if vals.get("line") is None:
            cells.add("items", n, col("line"), "empty; every row names its line")
            continue
        path = (
            str(vals["line"]),
            *(p.strip() for p in str(vals.get("section") or "").split("/") if p.strip()),
        )
        for k in range(1, len(path) + 1):  # the first row of each line and section
            tree.rows.setdefault(path[:k], n)
        if vals.get("unit_kind") is not None:
            tree.kinds.setdefault(path[:1], set()).add(str(vals["unit_kind"]))
        if vals.get("item") is None:  # a row describing a line or section
            if path in tree.explicit:
                cells.add(
                    "items",
                    n,
                    col("section"),
                    f"'{'/'.join(path)}' is described twice (also row {tree.rows[path]})",
                )
                continue
            tree.explicit.add(path)
            tree.rows[path] = n
            node_rows[path[-1]] = n
            tree.container(path).update(_container(vals, cells, n, col))
            continue
        item = _item(vals, cats, cells, n, col, graded)
        if item["id"] in node_rows and node_rows[item["id"]] != n:
            cells.add(
                "items",
                n,
                col("item"),
                f"item id '{item['id']}' is used twice (also row {node_rows[item['id']]})",
            )
        node_rows[item["id"]] = n
        tree.container(path)["items"].append(item)
    for path, n in tree.rows.items():  # lines and sections without a row of their own
        node_rows.setdefault(path[-1], n)
    lines = [node for path, node in tree.nodes.items() if len(path) == 1]
    for line in lines:
        tree.finish(line, (line["id"],), cells)
    return lines, node_rows, graded


def _read_indicators(ws, cells: _Cells) -> tuple[dict[str, dict], dict[str, int]]:
    header, rows = _sheet_rows(ws)
    where = {h: _letter(i) for i, h in enumerate(header) if h}
    out, at = {}, {}
    for n, vals in rows:
        if vals.get("id") is None:
            cells.add("indicators", n, f"{where.get('id', 'A')} (id)", "empty; every indicator has an id")
            continue
        d = {}
        for k in INDICATOR_COLUMNS[1:-1]:
            v = vals.get(k)
            if v is None:
                continue
            if k in ("numerator", "denominator"):
                v = [t.strip() for t in str(v).split(",") if t.strip()]
            elif k in ("scale", "zero_denominator", "min", "max"):
                v = _number(v, cells, "indicators", n, f"{where[k]} ({k})")
            else:
                v = str(v)
            d[k] = v
        ind = str(vals["id"])
        if ind in out:
            cells.add(
                "indicators",
                n,
                f"{where['id']} (id)",
                f"indicator '{ind}' is given twice (also row {at[ind]})",
            )
        at[ind] = n
        out[ind] = _merge(
            d, _yaml_cell(vals.get("yaml"), cells, "indicators", n, f"{where.get('yaml')} (yaml)") or {}
        )
    return out, at


def _is_text_field(key: str) -> bool:
    field = Scheme.model_fields.get(key)
    return field is not None and field.annotation in (str, str | None)


def _read_scheme_sheet(ws, cells: _Cells) -> dict[str, Any]:
    out: dict[str, Any] = {}
    first: dict[str, int] = {}
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        key, value = (list(values) + [None, None])[:2]
        if n == 1 and key == "key" or key is None:
            continue
        key = str(key).strip()
        if isinstance(value, str):
            value = value.strip()
        if key == "assumptions":
            out.setdefault("assumptions", []).append(str(value))
            continue
        if key in first:
            cells.add("scheme", n, "A (key)", f"key '{key}' is given twice (also row {first[key]})")
            continue
        first[key] = n
        if value is None:
            cells.add("scheme", n, "B (value)", f"empty value for '{key}'")
        elif _is_text_field(key):
            out[key] = str(value)
        else:
            out[key] = _yaml_cell(value, cells, "scheme", n, "B (value)", mapping=False)
    if isinstance(out.get("years"), int):
        out["years"] = [out["years"], out["years"]]
    return out


def _read_yaml_sheet(ws, cells: _Cells) -> dict[str, Any]:
    text = "\n".join("" if r[0] is None else str(r[0]) for r in ws.iter_rows(max_col=1, values_only=True))
    if not text.strip():
        return {}
    try:
        out = load_yaml_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        cells.add(
            "yaml", mark.line + 1 if mark else 1, "A", f"broken YAML: {getattr(exc, 'problem', None) or exc}"
        )
        return {}
    if out is None:
        return {}
    if not isinstance(out, dict):
        cells.add("yaml", 1, "A", "the sheet must hold a YAML mapping (adjustments:, vetoes:, outcomes: …)")
        return {}
    return out


def _located(
    exc: SchemeError, where: str, rows: Mapping[str, tuple[str, int]], cells: _Cells
) -> list[Problem]:
    """The scheme checks' problems with the sheet and row of the node or indicator they name.

    When cells had problems too, a check's problem on a row already flagged is left out
    (it follows from the cell's: a number that could not be read is a missing number), and
    so are problems naming no row unless the ``scheme`` and ``yaml`` sheets were clean.
    """
    probs = []
    sheets_clean = not any(sheet in ("scheme", "yaml") for sheet, _ in cells.flagged)
    for p in exc.problems:
        parts = p.where.removeprefix(f"{where}: ").split(SEP)
        hit = next((rows[x] for x in reversed(parts) if x in rows), None)
        if (hit in cells.flagged) if hit else not sheets_clean:
            continue
        at = f" (sheet {hit[0]}, row {hit[1]})" if hit else ""
        probs.append(Problem(f"{p.where}{at}", p.message, p.severity))
    return probs


def _read_sheets(wb, cells: _Cells) -> tuple[dict, list, dict, dict, dict, list]:
    """Every sheet of the workbook read, the problems of its cells in ``cells``."""
    top = _read_scheme_sheet(wb["scheme"], cells)
    cats = list(top["categories"]) if isinstance(top.get("categories"), dict) else []
    lines, node_rows, graded = _read_items(wb["items"], cats, cells)
    indicators, ind_rows = (
        _read_indicators(wb["indicators"], cells) if "indicators" in wb.sheetnames else ({}, {})
    )
    rest = _read_yaml_sheet(wb["yaml"], cells) if "yaml" in wb.sheetnames else {}
    rows = {k: ("indicators", n) for k, n in ind_rows.items()} | {
        k: ("items", n) for k, n in node_rows.items()
    }
    return top, lines, indicators, rest, rows, graded


def read_scheme_workbook(path: str | os.PathLike) -> tuple[Scheme, dict[str, Any], list[str]]:
    """Read a scheme workbook and check it with the scheme parser.

    Returns
    -------
    (scheme, raw mapping for the YAML file, ids of the items graded for want of a rule)

    Raises
    ------
    SchemeError
        With every problem found, each naming the sheet, row and column.
    """
    from openpyxl import load_workbook

    p = Path(path)
    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SchemeError(f"{p}: no such workbook") from None
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-workbooks
        raise SchemeError(f"{p}: not an .xlsx workbook ({type(exc).__name__}: {exc})") from None
    cells = _Cells(str(p))
    try:
        for need in ("items", "scheme"):
            if need not in wb.sheetnames:
                cells.add(need, 1, None, f"no sheet '{need}' (sheets: {', '.join(wb.sheetnames)})")
        if cells.problems:
            raise SchemeError(f"{p} is not a scheme workbook", cells.problems)
        top, lines, indicators, rest, rows, graded = _read_sheets(wb, cells)
    finally:
        wb.close()
    raw = _assemble(top, lines, indicators, rest, graded)
    where = f"{raw.get('id', p.stem)}.yaml from {p}"
    checks: list[Problem] = []
    if lines:  # the items sheet could be read: run the scheme's checks too
        try:
            scheme = parse_scheme(raw, where=where)
        except SchemeError as exc:
            checks = _located(exc, where, rows, cells)
    problems = cells.problems + checks
    if problems:
        raise SchemeError(f"{p} is not a valid scheme workbook ({len(problems)} problems)", problems)
    return scheme, raw, [i for i, _ in graded]


def _assemble(top: dict, lines: list[dict], indicators: dict, rest: dict, graded: list) -> dict[str, Any]:
    """The scheme mapping in the key order of a hand-written file."""
    used = {
        i["rule"]["indicator"]
        for i in _walk_items(lines)
        if isinstance(i.get("rule"), dict) and "indicator" in i["rule"]
    }
    for item_id, ind in graded:
        if ind not in indicators:
            label = next((i.get("label") for i in _walk_items(lines) if i["id"] == item_id), item_id)
            indicators[ind] = {"label": f"{label}（评分）"}
    for ind in sorted(used - set(indicators)):
        indicators[ind] = {}
    raw = {k: v for k, v in top.items() if k not in TABLE_KEYS}
    raw |= {"indicators": indicators, "lines": lines}
    return raw | {k: top[k] for k in TABLE_KEYS if k in top} | rest


def _walk_items(nodes: list[dict]):
    for n in nodes:
        if "items" in n:
            yield from _walk_items(n["items"])
        else:
            yield n


def import_excel_files(path: str | os.PathLike) -> tuple[Scheme, dict[str, str], list[str]]:
    """Read a scheme workbook and build ``<id>.yaml`` (not written).

    Returns
    -------
    (scheme, {file name: YAML text}, ids of the items graded for want of a rule)
        The YAML text loads (it is parsed again before it is returned).
    """
    scheme, raw, graded = read_scheme_workbook(path)
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
    parse_scheme(load_yaml_text(text), where=f"{scheme.id}.yaml")
    return scheme, {f"{scheme.id}.yaml": text}, graded


__all__ = [
    "read_scheme_workbook",
    "scheme_to_workbook",
    "scheme_workbook_tables",
    "import_excel_files",
]
