"""A design variant as data: the original scheme plus the levers moved (the explorer's core).

A :class:`Design` holds the original :class:`~assesskit.scheme.Scheme` and a few small
mappings of overrides — targets, item points, relative weights, rule forms, vetoes,
bonuses and deductions. :meth:`Design.to_scheme` writes them into the scheme's mapping
(``model_dump`` → edit → :func:`~assesskit.scheme.parse_scheme`, the way
:func:`assesskit.sensitivity.variant` and :func:`assesskit.sensitivity.engine.materialise`
build their variants), so a variant is validated exactly like a scheme file, and
:meth:`Design.to_yaml` writes it as one, with a comment header listing what changed.

Every method returns a new :class:`Design`; nothing is mutated. The widgets
(:mod:`assesskit.explore.app`) only translate control changes into these calls.

Points. Item points are the state: a line's or section's points are the sum of its
items' (a section whose points do not add up, ``check_sum: false``, keeps its ratio to
them). Setting a line's or section's points scales every item under it (rounded to
three decimals, the rounding remainder going to its largest item so the sum is exact);
setting an item's points changes its ancestors' sums and the maximum of its kind of unit.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._io import check_output_dir, load_yaml_text
from ..exceptions import OutputError, SchemeError
from ..rules import rule_type
from ..scheme import CategoryTarget, Item, Scheme, Section, TableTarget, parse_scheme

VETO_MODES = ("on", "off", "deduction")
"""A veto rule in force, switched off, or turned into a deduction."""

FORMS = ("threshold", "linear")
"""The two rule forms an item can switch between (all-or-nothing ↔ proportional credit)."""

DEFAULT_VETO_POINTS = 10.0
"""Points deducted by a veto turned into a deduction, until set."""


# --------------------------------------------------------------------------- what a lever reaches
def has_points_lever(scheme: Scheme, node_id: str) -> bool:
    """True for nodes whose points add up: items of a summing parent, summing sections and lines."""
    node = _node(scheme, node_id)
    if isinstance(node, Item):
        parent = _parents(scheme)[node_id]
        return node.points is not None and not rule_type(node.rule.type).score and parent.aggregate == "sum"
    return node.is_sum_tree


def has_weight_lever(scheme: Scheme, node_id: str) -> bool:
    """True for the children of a section that takes a weighted mean (composite indices)."""
    _node(scheme, node_id)
    parent = _parents(scheme).get(node_id)
    return parent is not None and parent.aggregate != "sum"


def target_lever(item: Item) -> str | None:
    """``'number'`` or ``'category'`` for an editable target; None (none, or a target table)."""
    t = getattr(item.rule, "target", None)
    if t is None or isinstance(t, TableTarget):
        return None
    return "category" if isinstance(t, CategoryTarget) else "number"


def form_of(scheme: Scheme, item: Item) -> str | None:
    """``'threshold'`` or ``'linear'`` when the item can switch form, else None.

    A ``<=`` threshold needs the 0-credit end of its proportional form: the indicator's
    ``max``, else twice its largest target (none for a target table).
    """
    r = item.rule
    if r.type not in FORMS or rule_type(r.type).alternative is None:
        return None
    if r.type == "threshold" and r.op in ("<=", "<") and _ceiling(scheme, item) is None:
        return None
    return r.type


def veto_deductible(scheme: Scheme, veto_id: str) -> bool:
    """True when the veto can become an exact deduction in a scheme file.

    That is a condition ``count >= 1`` (or ``count > 0``) on a count indicator: a deduction
    of ``P`` per case capped at ``P`` takes ``P`` exactly when the veto would have struck.
    Conditions on missed items or other thresholds have no deduction form in the scheme
    format (see the docs, "explore").
    """
    v = next(x for x in scheme.vetoes if x.id == veto_id)
    c = v.when
    if c.indicator is None or scheme.indicators[c.indicator].kind != "count":
        return False
    return (c.op == ">=" and c.value == 1) or (c.op == ">" and c.value == 0)


def _node(scheme: Scheme, node_id: str) -> Item | Section:
    """The line, section or item ``node_id``; SchemeError naming it when there is none."""
    node = scheme.nodes.get(node_id)
    if node is None:
        raise SchemeError(f"no line, section or item '{node_id}' in scheme '{scheme.id}'")
    return node


_PARENTS: dict[int, tuple[Scheme, dict[str, Section]]] = {}


def _parents(scheme: Scheme) -> dict[str, Section]:
    """Each node's parent (cached per scheme: the levers ask for every node on every change;
    a Scheme is not hashable, so the cache is keyed by identity and keeps the scheme)."""
    hit = _PARENTS.get(id(scheme))
    if hit is not None and hit[0] is scheme:
        return hit[1]
    out: dict[str, Section] = {}
    for node in scheme.nodes.values():
        for child in getattr(node, "items", []):
            out[child.id] = node
    if len(_PARENTS) > 32:
        _PARENTS.clear()
    _PARENTS[id(scheme)] = (scheme, out)
    return out


def _leaves(node: Item | Section) -> list[Item]:
    if isinstance(node, Item):
        return [node]
    return [leaf for c in node.items for leaf in _leaves(c)]


def _ceiling(scheme: Scheme, item: Item) -> float | None:
    """The 0-credit end of a proportional ``<=`` rule: the indicator's ``max``, else twice
    the largest target; None for a target table, or when that end is not above the targets."""
    t = item.rule.target
    if isinstance(t, TableTarget):
        return None
    vals = list(t.by_category.values()) if isinstance(t, CategoryTarget) else [t]
    ind = scheme.indicators[item.rule.indicator]
    top = float(ind.max) if ind.max is not None else 2.0 * max(vals)
    return top if top > max(vals) else None


def _scaled(node: Section, leaves: list[Item], cur: list[float], value: float) -> list[float]:
    """Item points under ``node`` for the node's new points ``value`` (module docstring).

    While the items keep the original's proportions, the original points are scaled (so
    setting the original value back restores them exactly, rounding undone); otherwise
    the current ones.
    """
    orig = [it.points for it in leaves]
    ratio = [c / o for c, o in zip(cur, orig, strict=True)]
    proportional = max(ratio) - min(ratio) <= 1e-3 * max(ratio)
    # the items' sum that gives the node ``value`` (a node that does not add up keeps its ratio)
    want = value if node.check_sum else value * sum(orig) / node.points
    if proportional and math.isclose(want, sum(orig), rel_tol=0, abs_tol=1e-9):
        return orig
    src = orig if proportional else cur
    new = [round(c * want / sum(src), 3) for c in src]
    big = max(range(len(new)), key=lambda i: new[i])
    new[big] = round(new[big] + want - sum(new), 3)  # the rounding remainder: the sum is exact
    return new


# --------------------------------------------------------------------------- the design
@dataclass(frozen=True)
class Design:
    """The original scheme and the levers moved; see the module docstring.

    Attributes
    ----------
    scheme : Scheme
        The original.
    targets : mapping item id → float, or → {category: float}
        New targets (per category for a scheme with categories).
    points : mapping item id → float
        New item points (lines and sections follow, see :meth:`set_points`).
    weights : mapping node id → float
        New relative weights of the children of weighted means.
    forms : mapping item id → 'threshold' or 'linear'
        Items switched to their other form.
    vetoes : mapping veto id → 'off' or 'deduction'
        Veto rules switched off or turned into a deduction of ``veto_points``.
    veto_points : mapping veto id → float
    adjustments_off : frozenset of str
        Bonuses and deductions switched off.
    """

    scheme: Scheme
    targets: Mapping[str, float | Mapping[str, float]] = field(default_factory=dict)
    points: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    forms: Mapping[str, str] = field(default_factory=dict)
    vetoes: Mapping[str, str] = field(default_factory=dict)
    veto_points: Mapping[str, float] = field(default_factory=dict)
    adjustments_off: frozenset[str] = frozenset()

    # ---- reading the levers
    def item_points(self, item_id: str) -> float:
        it = self.scheme.nodes[item_id]
        return float(self.points.get(item_id, it.points))

    def node_points(self, node_id: str) -> float:
        """A node's points under this design (see the module docstring)."""
        node = self.scheme.nodes[node_id]
        if isinstance(node, Item):
            return self.item_points(node_id)
        kids = sum(self.node_points(c.id) for c in node.items)
        if node.check_sum:
            return round(kids, 10)  # within the sum check's tolerance (1e-9), without float noise
        base = sum(c.points for c in node.items)
        return round(node.points * kids / base, 10)

    def target(self, item_id: str, category: str | None = None) -> float | None:
        """The item's target (its category's for a per-category target)."""
        t = self.scheme.nodes[item_id].rule.target
        new = self.targets.get(item_id)
        if isinstance(t, CategoryTarget):
            new = new or {}
            return float(new.get(category, t.by_category.get(category, math.nan)))
        return float(new if new is not None else t)

    def form(self, item_id: str) -> str:
        return self.forms.get(item_id, self.scheme.nodes[item_id].rule.type)

    def veto_mode(self, veto_id: str) -> str:
        return self.vetoes.get(veto_id, "on")

    def veto_deduction(self, veto_id: str) -> float:
        return float(self.veto_points.get(veto_id, DEFAULT_VETO_POINTS))

    def weight(self, node_id: str) -> float:
        return float(self.weights.get(node_id, self.scheme.nodes[node_id].weight))

    @property
    def is_original(self) -> bool:
        """True when no lever is moved (the setters drop overrides equal to the original)."""
        overrides = (self.targets, self.points, self.weights, self.forms, self.vetoes, self.adjustments_off)
        return not any(overrides)

    # ---- moving the levers (each returns a new design)
    def set_target(self, item_id: str, value: float, category: str | None = None) -> Design:
        """The item's target, or its target for one category."""
        item = self._item(item_id)
        kind = target_lever(item)
        if kind is None:
            raise SchemeError(
                f"item '{item_id}': its target is not a number or per category (a target table)"
            )
        value = _finite(value, f"target of '{item_id}'")
        _within_indicator(self.scheme, item, value)
        if kind == "category":
            if category not in item.rule.target.by_category:
                cats = ", ".join(item.rule.target.by_category)
                if category is None:
                    raise SchemeError(f"item '{item_id}': its target is per category; give one of: {cats}")
                raise SchemeError(f"item '{item_id}': no target for category '{category}' (has: {cats})")
            cur = dict(self.targets.get(item_id, {}))
            cur[category] = value
            new: Any = {c: v for c, v in cur.items() if v != item.rule.target.by_category[c]}
        else:
            new = value if value != item.rule.target else None
        # a target of 0 is a target: only an empty per-category override means "none"
        return self._replace_in("targets", item_id, None if new == {} else new)

    def set_points(self, node_id: str, value: float) -> Design:
        """A line's, section's or item's points (see the module docstring)."""
        if not has_points_lever(self.scheme, node_id):
            raise SchemeError(f"'{node_id}' has no points that add up (a weighted mean or a normalised item)")
        value = _finite(value, f"points of '{node_id}'")
        if value <= 0:
            raise SchemeError(f"points of '{node_id}' must be above 0, got {value:g}")
        node = self.scheme.nodes[node_id]
        leaves = _leaves(node)
        cur = [self.item_points(it.id) for it in leaves]
        new = [value] if isinstance(node, Item) else _scaled(node, leaves, cur, value)
        pts = dict(self.points)
        for it, v in zip(leaves, new, strict=True):
            if v <= 0:
                raise SchemeError(f"points of '{node_id}' = {value:g} leave item '{it.id}' with {v:g} points")
            if v == it.points:
                pts.pop(it.id, None)
            else:
                pts[it.id] = v
        return dataclasses.replace(self, points=pts)

    def set_weight(self, node_id: str, value: float) -> Design:
        if not has_weight_lever(self.scheme, node_id):
            raise SchemeError(f"'{node_id}' is not under a weighted mean: it has points, not a weight")
        value = _finite(value, f"weight of '{node_id}'")
        if value < 0:
            raise SchemeError(f"weight of '{node_id}' must be 0 or more, got {value:g}")
        same = value == self.scheme.nodes[node_id].weight
        return self._replace_in("weights", node_id, None if same else value)

    def set_form(self, item_id: str, form: str) -> Design:
        """``'threshold'`` (all or nothing) or ``'linear'`` (proportional credit)."""
        base = form_of(self.scheme, self._item(item_id))
        if base is None or form not in FORMS:
            raise SchemeError(f"item '{item_id}': cannot take the form '{form}' (threshold ↔ linear only)")
        return self._replace_in("forms", item_id, None if form == base else form)

    def set_veto(self, veto_id: str, mode: str, points: float | None = None) -> Design:
        """A veto ``'on'``, ``'off'``, or ``'deduction'`` (of ``points``)."""
        if veto_id not in {v.id for v in self.scheme.vetoes}:
            raise SchemeError(f"no veto rule '{veto_id}' in scheme '{self.scheme.id}'")
        if mode not in VETO_MODES:
            raise SchemeError(f"veto '{veto_id}': mode must be one of {', '.join(VETO_MODES)}, got '{mode}'")
        if mode == "deduction" and not veto_deductible(self.scheme, veto_id):
            raise SchemeError(
                f"veto '{veto_id}': only a condition 'count >= 1' on a count indicator can become a "
                "deduction in a scheme file"
            )
        out = self._replace_in("vetoes", veto_id, None if mode == "on" else mode)
        if points is not None:
            points = _finite(points, f"deduction of veto '{veto_id}'")
            if points <= 0:
                raise SchemeError(f"deduction of veto '{veto_id}' must be above 0, got {points:g}")
            out = out._replace_in("veto_points", veto_id, points)
        return out

    def set_adjustment(self, adj_id: str, on: bool) -> Design:
        if adj_id not in {a.id for a in self.scheme.adjustments}:
            raise SchemeError(f"no bonus or deduction '{adj_id}' in scheme '{self.scheme.id}'")
        off = set(self.adjustments_off) - {adj_id} | (set() if on else {adj_id})
        return dataclasses.replace(self, adjustments_off=frozenset(off))

    def reset(self) -> Design:
        """The original scheme, every lever back."""
        return Design(self.scheme)

    def _item(self, item_id: str) -> Item:
        node = self.scheme.nodes.get(item_id)
        if not isinstance(node, Item):
            raise SchemeError(f"no item '{item_id}' in scheme '{self.scheme.id}'")
        return node

    def _replace_in(self, name: str, key: str, value: Any) -> Design:
        d = dict(getattr(self, name))
        if value is None:
            d.pop(key, None)
        else:
            d[key] = value
        return dataclasses.replace(self, **{name: d})

    # ---- the variant as a scheme
    def to_raw(self, id: str | None = None, label: str | None = None) -> dict[str, Any]:
        """The variant as a scheme mapping (the keys of a scheme file)."""
        s = self.scheme
        raw = s.model_dump(mode="json", exclude_unset=True)
        if id is not None:
            raw["id"] = id
        if label is not None:
            raw["label"] = label
        raw["lines"] = [self._node_raw(ln, s.nodes[ln["id"]]) for ln in raw["lines"]]
        for kind, k in raw["kinds"].items():  # a kind is worth what its lines are worth
            if k.get("points") is not None:
                k["points"] = round(
                    sum(self.node_points(ln.id) for ln in s.lines if ln.unit_kind == kind), 10
                )
        vetoes, extra = [], []
        for v in raw.get("vetoes", []):
            mode = self.veto_mode(v["id"])
            if mode == "on":
                vetoes.append(v)
            elif mode == "deduction":
                extra.append(self._veto_as_deduction(v))
        if "vetoes" in raw or vetoes:
            raw["vetoes"] = vetoes
        adjs = [a for a in raw.get("adjustments", []) if a["id"] not in self.adjustments_off] + extra
        if "adjustments" in raw or adjs:
            raw["adjustments"] = adjs
        return raw

    def to_scheme(self) -> Scheme:
        """The variant, validated like a scheme file (the original itself when nothing moved)."""
        if self.is_original:
            return self.scheme
        return parse_scheme(self.to_raw(), f"variant of {self.scheme.id}")

    def _node_raw(self, raw: dict, node: Item | Section) -> dict:
        raw = dict(raw)
        if node.id in self.weights:
            raw["weight"] = float(self.weights[node.id])
        if isinstance(node, Section):
            raw["items"] = [self._node_raw(r, c) for r, c in zip(raw["items"], node.items, strict=True)]
            if node.is_sum_tree and node.points is not None:
                raw["points"] = self.node_points(node.id)
            return raw
        if node.id in self.points:
            raw["points"] = float(self.points[node.id])
        rule = dict(raw["rule"])
        if node.id in self.forms:
            alt = rule_type(node.rule.type).alternative
            up = node.rule.op in (">=", ">")
            ind = self.scheme.indicators[node.rule.indicator]
            floor = ind.min if ind.min is not None else 0.0
            new = alt(node, floor if up else 0.0, None if up else _ceiling(self.scheme, node)).model_dump(
                mode="json", exclude_none=True
            )
            rule = {**new, "target": rule["target"]}
        if node.id in self.targets:
            new_t = self.targets[node.id]
            if isinstance(node.rule.target, CategoryTarget):
                t = dict(rule["target"])
                t["by_category"] = {**t["by_category"], **{c: float(v) for c, v in new_t.items()}}
                rule["target"] = t
            else:
                rule["target"] = float(new_t)
        raw["rule"] = rule
        return raw

    def _veto_as_deduction(self, v: dict) -> dict:
        pts = self.veto_deduction(v["id"])
        taken = {a.id for a in self.scheme.adjustments}
        adj_id = f"{v['id']}_deduction"
        while adj_id in taken:
            adj_id += "_"
        out = {
            "id": adj_id,
            "label": f"{v['label']}（改为扣分）",
            "kind": "deduction",
            "per_case": {v["when"]["indicator"]: pts},
            "cap": pts,
            "assumption": f"The veto '{v['id']}' turned into a deduction of {pts:g} points (explorer variant).",
        }
        if v.get("applies_to") is not None:
            out["applies_to"] = v["applies_to"]
        return out

    # ---- what changed, in words
    def changes(self) -> list[str]:
        """Every lever moved, one line each (Chinese label, id, old → new)."""
        s = self.scheme
        out: list[str] = []

        def lab(node_id: str) -> str:
            return f"{s.nodes[node_id].label} ({node_id})"

        for _path, it in s.flat_items:
            if it.id in self.forms:
                out.append(f"规则形式 rule form of {lab(it.id)}: {it.rule.type} → {self.forms[it.id]}")
            if it.id in self.targets:
                t = it.rule.target
                if isinstance(t, CategoryTarget):
                    for c, v in self.targets[it.id].items():
                        out.append(f"目标 target of {lab(it.id)} [{c}]: {t.by_category[c]:g} → {v:g}")
                else:
                    out.append(f"目标 target of {lab(it.id)}: {t:g} → {self.targets[it.id]:g}")
        for node_id, node in s.nodes.items():
            if has_points_lever(s, node_id):
                new = self.node_points(node_id)
                if not math.isclose(new, node.points, rel_tol=0, abs_tol=1e-9):
                    out.append(f"分值 points of {lab(node_id)}: {node.points:g} → {new:g}")
            if node_id in self.weights:
                out.append(f"权重 weight of {lab(node_id)}: {node.weight:g} → {self.weights[node_id]:g}")
        for v in s.vetoes:
            mode = self.veto_mode(v.id)
            if mode == "off":
                out.append(f"一票否决 veto {v.label} ({v.id}): switched off")
            elif mode == "deduction":
                out.append(
                    f"一票否决 veto {v.label} ({v.id}): turned into a deduction of {self.veto_deduction(v.id):g}"
                )
        for a in s.adjustments:
            if a.id in self.adjustments_off:
                word = "加分 bonus" if a.kind == "bonus" else "扣分 deduction"
                out.append(f"{word} {a.label} ({a.id}): switched off")
        return out

    def to_yaml(self, id: str | None = None, label: str | None = None) -> str:
        """The variant as a scheme file: a comment header listing the changes, then the YAML.

        The text is parsed back and validated before it is returned.
        """
        vid = check_variant_id(id) if id is not None else f"{self.scheme.id}_variant"
        raw = self.to_raw(id=vid, label=label or f"{self.scheme.label}（变体）")
        changes = self.changes()
        raw["assumptions"] = list(raw.get("assumptions", [])) + [
            f"Variant of '{self.scheme.id}' saved by the assesskit explorer: "
            f"{len(changes)} change(s), listed in the comment at the top of this file."
        ]
        body = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
        head = [
            f"{_HEADER_START}'{self.scheme.id}' ({_one_line(self.scheme.label)}), "
            "saved by assesskit.explore.",
            "# What changed from the original:",
            *[f"#   * {_one_line(c)}" for c in changes or ["nothing"]],
            "# Score it like any scheme file: assesskit score --scheme THIS_FILE ...",
        ]
        text = "\n".join(head) + "\n" + body
        parse_scheme(load_yaml_text(text), f"{vid}.yaml")
        return text


_HEADER_START = "# A variant of the scheme "
"""How a saved variant begins: a file that does not is never overwritten (see
:func:`check_variant_path`)."""

_VARIANT_ID = re.compile(r"\w[\w.-]*")


def check_variant_id(vid: str) -> str:
    """``vid`` when it can name a variant and its file (letters of any script, digits, ``_``,
    ``-``, ``.``; not starting with ``.`` or ``-``), else SchemeError saying what is expected.

    The id becomes a file name and a folder name in reports, so no spaces, path separators
    or ``..`` tricks.
    """
    if not isinstance(vid, str) or not _VARIANT_ID.fullmatch(vid):
        raise SchemeError(
            f"variant id {vid!r}: use letters, digits, '_', '-' and '.' only, starting with a letter, "
            "digit or '_' (it names the scheme file, e.g. my_variant.yaml)"
        )
    return vid


def check_variant_path(path: str | Path) -> Path:
    """Where a variant can be saved: ``*.yaml``/``*.yml`` whose stem is a valid id (see
    :func:`check_variant_id`), in an existing folder, and not an existing folder itself;
    an existing file only when it is a variant saved earlier (never the original scheme).

    Raises
    ------
    OutputError, SchemeError
        Naming the path and what is expected.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise OutputError(f"{p}: is a folder; give the scheme file to write, e.g. {p / 'my_variant.yaml'}")
    if p.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError(f"{p}: a variant is saved as a scheme file; give a name ending in .yaml")
    check_output_dir(p.parent)
    if not p.parent.is_dir():
        raise OutputError(f"{p.parent}: no such folder; create it first, or save the variant elsewhere")
    check_variant_id(p.stem)
    if p.exists() and not _is_variant_file(p):
        raise OutputError(
            f"{p}: exists and is not a variant saved by the explorer (the original scheme, or "
            "another file?); it is not overwritten: give a new file name"
        )
    return p


def _is_variant_file(p: Path) -> bool:
    """True when ``p`` starts with the header :meth:`Design.to_yaml` writes."""
    try:
        with open(p, "rb") as f:
            return f.read(len(_HEADER_START.encode())) == _HEADER_START.encode()
    except OSError:
        return False


def _one_line(text: str) -> str:
    """A text for a one-line YAML comment (a line break would end the comment)."""
    return " ".join(str(text).splitlines())  # every break YAML knows (\r, \x85, \u2028 …)


def _within_indicator(scheme: Scheme, item: Item, value: float) -> None:
    """Refuse a target the indicator cannot reach (outside its ``min``/``max``): every unit
    would silently miss (or meet) it, which is a typo far more often than a design."""
    ind = scheme.indicators[item.rule.indicator]
    lo = -math.inf if ind.min is None else float(ind.min)
    hi = math.inf if ind.max is None else float(ind.max)
    if not lo <= value <= hi:
        unit = f" {ind.unit}" if ind.unit else ""
        raise SchemeError(
            f"target of '{item.id}': {value:g} is outside the range of its indicator "
            f"'{item.rule.indicator}' ({lo:g}–{hi:g}{unit})"
        )


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool):  # float(True) is 1.0: a flag is not a number of points or a target
        raise SchemeError(f"{what}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SchemeError(f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise SchemeError(f"{what}: expected a finite number, got {value!r}")
    return v
