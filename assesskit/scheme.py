"""Assessment schemes as data: the YAML format, its frozen model, the loader and checks.

A scheme is a tree ``scheme → lines → sections → items`` (sections may nest), plus the
indicators the items read, scheme-level adjustments (bonuses and deductions), veto and
eligibility conditions, and outcomes (award tiers, single-item awards, warnings).
The YAML keys are exactly the field names of the models below (the rule models come from
the rule registry, :mod:`assesskit.kernel.rules`, and are importable from here too); unknown
keys are errors.
See the documentation (user guide, "Scheme files", docs/user/scheme-files.md) for a worked example of every construct.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from ._io import read_yaml
from .exceptions import Problem, SchemeError
from .kernel.aggregate import SEP
from .kernel.rules import (  # noqa: F401  (the rule models live with the registry; importable from here too)
    Band,
    BandsRule,
    CategoryTarget,
    ChangeRule,
    CurveRule,
    GradedRule,
    Knot,
    LinearRule,
    NormaliseRule,
    Op,
    PerCaseRule,
    RangeRule,
    TableTarget,
    Target,
    ThresholdRule,
    rule_type,
    rule_union,
)

Effect = Literal["veto", "not_scored", "ineligible"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- indicators
_Terms = Annotated[
    list[str] | None,
    WithJsonSchema(
        {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    ),
]


class Indicator(_Model):
    """A quantity an item or condition reads from the panel.

    Either a rate computed from counts, ``sum(numerator) / sum(denominator) * scale``
    (a term ``-deaths`` is subtracted), or a plain column (``column``, default: the
    indicator's own id). A rate whose counts are absent is read from a column named like
    the indicator, with a warning that it carries no denominator. A zero denominator
    makes the rate undefined (missing) unless ``zero_denominator`` gives its value — e.g.
    100 for a collection rate when nothing was due.
    """

    label: str | None = None
    label_en: str | None = None
    unit: str | None = None
    numerator: _Terms = None
    denominator: _Terms = None
    scale: float = 1.0
    column: str | None = None
    kind: Literal["number", "count", "label"] = "number"
    zero_denominator: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _listify(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("numerator", "denominator"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("a rate needs both numerator and denominator")
        if self.numerator is not None and self.column is not None:
            raise ValueError("give either numerator/denominator or column, not both")
        return self

    @property
    def is_rate(self) -> bool:
        return self.numerator is not None


# --------------------------------------------------------------------------- rules
Rule = rule_union()
"""A rule: any registered rule type's model (:data:`assesskit.rules.RULE_TYPES`), by ``type``."""


# --------------------------------------------------------------------------- tree
Missing = Literal["zero", "full", "drop"]
Aggregate = Literal["sum", "mean", "geometric", "harmonic"]


class Item(_Model):
    """A scored indicator: points and the rule that awards them.

    For a ``normalise`` rule the score is the normalised value; ``points`` is then optional
    and, when given, states the score's maximum. ``weight`` is the item's relative weight
    in a parent that aggregates by a mean (ignored by ``sum``).
    """

    id: str
    label: str
    label_en: str | None = None
    points: float | None = Field(None, gt=0)
    weight: float = Field(1.0, ge=0)
    rule: Rule
    missing: Missing | None = None
    method: str | None = None
    responsible: str | None = None
    level: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.points is None and not rule_type(self.rule.type).score:
            raise ValueError(f"a '{self.rule.type}' item needs points")
        return self


class Section(_Model):
    """A group of items (or nested sections).

    ``aggregate: sum`` (the default, for point schemes): the children's points add up to
    the section's own. ``mean``, ``geometric`` or ``harmonic`` (composite indices): the
    weighted mean of the children's scores with their relative ``weight``; a child missing
    for a unit drops out and the other weights are rescaled.
    """

    id: str
    label: str
    label_en: str | None = None
    points: float | None = Field(None, gt=0)
    weight: float = Field(1.0, ge=0)
    aggregate: Aggregate = "sum"
    items: list[Node] = Field(min_length=1)
    check_sum: bool = True
    assumption: str | None = None

    @model_validator(mode="after")
    def _check_points(self) -> Section:
        if self.points is None and self.aggregate == "sum":
            raise ValueError("a section that adds up its children (aggregate: sum) needs points")
        return self

    @property
    def is_sum_tree(self) -> bool:
        """True when this node and every section below it add up points."""
        return self.aggregate == "sum" and all(
            c.is_sum_tree if isinstance(c, Section) else not rule_type(c.rule.type).score for c in self.items
        )


def _node_tag(v: Any) -> str:
    if isinstance(v, dict):
        return "section" if "items" in v else "item"
    return "section" if isinstance(v, Section) else "item"


Node = Annotated[
    Union[Annotated[Item, Tag("item")], Annotated[Section, Tag("section")]],
    Discriminator(_node_tag),
]


class Line(Section):
    """A line (线) applies to one kind of unit and is scored and ranked on its own."""

    unit_kind: str


# --------------------------------------------------------------------------- adjustments
class Assessed(_Model):
    """Points set by inspectors within ``[min, max]`` (e.g. −10 to −30 by severity)."""

    indicator: str
    min: float = Field(ge=0)
    max: float = Field(gt=0)


class Adjustment(_Model):
    """A scheme-level bonus (加分) or deduction (扣分).

    Points are ``Σ cases × points`` over ``per_case`` (one indicator per kind of case —
    per level, or reported vs unreported for a doubled deduction), plus inspector-set
    points (``assessed``), capped at ``cap``. A missing count counts as no case.
    """

    id: str
    label: str
    label_en: str | None = None
    kind: Literal["bonus", "deduction"]
    per_case: dict[str, float] = Field(default_factory=dict)
    assessed: Assessed | None = None
    cap: float | None = Field(None, gt=0)
    applies_to: list[str] | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Adjustment:
        if not self.per_case and self.assessed is None:
            raise ValueError("an adjustment needs per_case counts or assessed points")
        return self


# --------------------------------------------------------------------------- conditions
class Condition(_Model):
    """``missed: ITEM`` (the item's rule not fully met, or its value missing),
    ``indicator op value``, or ``all`` / ``any`` of conditions."""

    missed: str | None = None
    indicator: str | None = None
    op: Op | Literal["=="] | None = None
    value: float | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def _check(self) -> Condition:
        forms = [
            self.missed is not None,
            self.indicator is not None,
            self.all is not None,
            self.any is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of: missed, indicator, all, any")
        if self.indicator is not None and (self.op is None or self.value is None):
            raise ValueError("an indicator condition needs op and value")
        return self

    def walk(self) -> Iterator[Condition]:
        yield self
        for sub in (self.all or []) + (self.any or []):
            yield from sub.walk()


class Veto(_Model):
    """A veto or eligibility rule and its effect.

    ``veto`` (一票否决): out of ranking and awards, flagged with the reason;
    ``not_scored`` (不参与评分): no total, out of ranking and awards;
    ``ineligible`` (取消评优): keeps its rank, loses award eligibility.
    """

    id: str
    label: str
    label_en: str | None = None
    effect: Effect
    when: Condition
    applies_to: list[str] | None = None
    assumption: str | None = None


# --------------------------------------------------------------------------- outcomes
class _Outcome(_Model):
    """What every award and warning has: ``applies_to`` names the kinds of unit it is for
    (default: ``outcomes.applies_to``, else every kind)."""

    id: str
    label: str
    label_en: str | None = None
    applies_to: list[str] | None = None
    assumption: str | None = None


class Tier(_Outcome):
    """An award tier: the next ``count`` eligible units by rank (and at least
    ``min_total`` when given). Units tied at the tier's boundary follow ``outcomes.ties``."""

    count: int | None = Field(None, ge=1)
    prize: float | None = None
    min_total: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Tier:
        if self.count is None and self.min_total is None:
            raise ValueError("a tier needs a count, a min_total, or both")
        return self


class SingleAward(_Outcome):
    """A single-item award (单项奖): the top ``count`` eligible units by one node's points
    (then the total); ties at the boundary follow ``outcomes.ties``."""

    rank_by: str
    count: int = Field(ge=1)
    prize: float | None = None


class Decline(_Model):
    """A fall against the unit's previous year under this scheme (inside the scheme's years):
    the total by at least ``total`` points, or the rank by at least ``rank`` places."""

    total: float | None = Field(None, gt=0)
    rank: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Decline:
        if self.total is None and self.rank is None:
            raise ValueError("a decline needs total (points lost) or rank (places lost)")
        return self


class Warning_(_Outcome):
    """A warning (黄牌警告, 限期整改 …) for ranked units: the last ``bottom`` ranked units,
    every ranked unit below ``below_total``, and/or every ranked unit whose result fell
    against its previous year by ``decline``. Given several, any one suffices."""

    bottom: int | None = Field(None, ge=1)
    below_total: float | None = None
    decline: Decline | None = None

    @model_validator(mode="after")
    def _check(self) -> Warning_:
        if self.bottom is None and self.below_total is None and self.decline is None:
            raise ValueError("a warning needs bottom, below_total or decline")
        return self


class Outcomes(_Model):
    """Ranking, awards and warnings, per kind of unit (units of one kind compete).

    ``tie_break``: nodes compared in turn when totals tie. ``ties``: what units still tied
    at a fixed-count award's boundary get — ``share`` the better award, ``tiebreak`` the
    same but reported (AssessKitWarning), ``split`` the places they span, their prizes
    shared equally. ``applies_to``: the kinds of every outcome that names none.
    """

    tie_break: list[str] = Field(default_factory=list)
    ties: Literal["share", "tiebreak", "split"] = "share"
    tiers: list[Tier] = Field(default_factory=list)
    single_awards: list[SingleAward] = Field(default_factory=list)
    warnings: list[Warning_] = Field(default_factory=list)
    applies_to: list[str] | None = None
    assumption: str | None = None

    def kinds_of(self, outcome: _Outcome) -> list[str] | None:
        """The kinds of unit an outcome applies to (None: every kind)."""
        return outcome.applies_to if outcome.applies_to is not None else self.applies_to


class Kind(_Model):
    label: str
    label_en: str | None = None
    points: float | None = None


class Category(_Model):
    label: str
    label_en: str | None = None


# --------------------------------------------------------------------------- scheme
class Scheme(_Model):
    """A whole assessment scheme. Build it with :func:`load_scheme`."""

    id: str
    label: str
    label_en: str | None = None
    source: str
    years: tuple[int, int]
    assumptions: list[str] = Field(default_factory=list)
    kinds: dict[str, Kind]
    categories: dict[str, Category] = Field(default_factory=dict)
    missing: Missing = "zero"
    floor: float | None = 0.0
    indicators: dict[str, Indicator]
    lines: list[Line] = Field(min_length=1)
    adjustments: list[Adjustment] = Field(default_factory=list)
    vetoes: list[Veto] = Field(default_factory=list)
    outcomes: Outcomes = Field(default_factory=Outcomes)

    # ---- derived views (computed once; the model is frozen)
    @cached_property
    def flat_items(self) -> list[tuple[tuple[str, ...], Item]]:
        """Every item in document order with its path of ids ``(line, section…, item)``."""
        out: list[tuple[tuple[str, ...], Item]] = []

        def visit(node: Item | Section, path: tuple[str, ...]) -> None:
            if isinstance(node, Item):
                out.append((path + (node.id,), node))
            else:
                for child in node.items:
                    visit(child, path + (node.id,))

        for line in self.lines:
            visit(line, ())
        return out

    @cached_property
    def nodes(self) -> dict[str, Item | Section]:
        """Every line, section and item by id."""
        out: dict[str, Item | Section] = {}

        def visit(node: Item | Section) -> None:
            out[node.id] = node
            for child in getattr(node, "items", []):
                visit(child)

        for line in self.lines:
            visit(line)
        return out

    @cached_property
    def may_drop(self) -> bool:
        """True when some item's missing values drop out (``missing: drop``)."""
        return self.missing == "drop" or any(it.missing == "drop" for _p, it in self.flat_items)

    def line_of(self, node_id: str) -> Line:
        for path, _item in self.flat_items:
            if node_id in path:
                return next(ln for ln in self.lines if ln.id == path[0])
        raise KeyError(node_id)

    @property
    def max_by_kind(self) -> dict[str, float]:
        """Maximum points of the lines of each kind of unit (before bonuses)."""
        out = {k: 0.0 for k in self.kinds}
        for line in self.lines:
            out[line.unit_kind] += line.points if line.points is not None else math.nan
        return out

    def required_columns(self) -> set[str]:
        """Every panel column any indicator of this scheme may read."""
        cols: set[str] = set()
        for ind_id, ind in self.indicators.items():
            if ind.is_rate:
                cols |= {t.lstrip("-") for t in ind.numerator + ind.denominator}
            cols.add(ind.column or ind_id)
        return cols

    def label_of(self, node_id: str, lang: str = "zh") -> str:
        node = self.nodes[node_id]
        return (node.label_en or node.label) if lang == "en" else node.label


Section.model_rebuild()
Line.model_rebuild()
Condition.model_rebuild()


# --------------------------------------------------------------------------- checks
def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


def check_scheme(s: Scheme) -> list[Problem]:
    """Semantic checks beyond the field types: sums, unique ids, references, and each rule
    type's own checks (:attr:`assesskit.rules.RuleType.check`).

    Returns every problem found (empty when the scheme is sound).
    """
    return [
        *_check_tree(s),
        *_check_kinds(s),
        *_check_items(s),
        *_check_composite(s),
        *_check_adjustments(s),
        *_check_vetoes(s),
        *_check_outcomes(s),
        *_check_ranges(s),
    ]


def _check_tree(s: Scheme) -> list[Problem]:
    """Ids unique across lines, sections and items; children's points adding up; known kinds."""
    probs: list[Problem] = []
    seen: dict[str, str] = {}

    def visit(node: Item | Section, path: tuple[str, ...]) -> None:
        here = path + (node.id,)
        where = SEP.join(here)
        if node.id in seen:
            probs.append(Problem(where, f"id '{node.id}' is used twice (also at {seen[node.id]})"))
        seen.setdefault(node.id, where)
        if isinstance(node, Section) and node.aggregate == "sum":
            probs.extend(_check_sum(node, where))
        for child in getattr(node, "items", None) or []:
            visit(child, here)

    for line in s.lines:
        visit(line, ())
        if line.unit_kind not in s.kinds:
            probs.append(
                Problem(line.id, f"unit_kind '{line.unit_kind}' is not one of kinds {sorted(s.kinds)}")
            )
    return probs


def _check_sum(node: Section, where: str) -> list[Problem]:
    unpointed = [c.id for c in node.items if c.points is None]
    if unpointed:
        return [Problem(where, f"adds up its children's points, but {', '.join(unpointed)} have none")]
    total = sum(c.points for c in node.items)
    if node.check_sum and not _close(total, node.points):
        parts = " + ".join(f"{c.points:g}" for c in node.items)
        return [
            Problem(
                where,
                f"children add up to {total:g} ({parts}) but the parent has "
                f"{node.points:g} points; fix the points or set check_sum: false "
                "with an assumption saying why",
            )
        ]
    return []


def _check_kinds(s: Scheme) -> list[Problem]:
    probs: list[Problem] = []
    for kind, k in s.kinds.items():
        got = s.max_by_kind[kind]
        if k.points is not None and not math.isnan(got) and not _close(got, k.points):
            lines = [f"{ln.id} {ln.points:g}" for ln in s.lines if ln.unit_kind == kind]
            probs.append(
                Problem(
                    f"kinds › {kind}",
                    f"lines add up to {got:g} ({', '.join(lines) or 'none'}) but the kind has "
                    f"{k.points:g} points",
                )
            )
    return probs


def _need_indicator(s: Scheme, name: str, where: str) -> list[Problem]:
    if name in s.indicators:
        return []
    defined = ", ".join(sorted(s.indicators)) or "none"
    return [
        Problem(
            where, f"names indicator '{name}', which is not defined under 'indicators' (defined: {defined})"
        )
    ]


def _need_kinds(s: Scheme, kinds: list[str] | None, where: str) -> list[Problem]:
    return [Problem(where, f"applies_to names unknown kind '{k}'") for k in kinds or [] if k not in s.kinds]


def _check_items(s: Scheme) -> list[Problem]:
    """Each item's indicator and target categories, then its rule type's own checks."""
    probs: list[Problem] = []
    for path, item in s.flat_items:
        where = SEP.join(path)
        probs += _need_indicator(s, item.rule.indicator, where)
        t = getattr(item.rule, "target", None)
        if isinstance(t, CategoryTarget):
            probs += [
                Problem(where, f"target names category '{c}', not one of {sorted(s.categories)}")
                for c in t.by_category
                if c not in s.categories
            ]
        check = rule_type(item.rule.type).check
        if check is not None:
            probs += check(item, s, where)
    return probs


def _check_composite(s: Scheme) -> list[Problem]:
    """Weighted means with some weight, and no item dropping out of a sum of points."""
    probs: list[Problem] = []

    def visit(node: Item | Section, path: tuple[str, ...], parent_agg: str) -> None:
        here = path + (node.id,)
        where = SEP.join(here)
        if isinstance(node, Section):
            if node.aggregate != "sum" and all(c.weight == 0 for c in node.items):
                probs.append(Problem(where, f"every child has weight 0: the {node.aggregate} is undefined"))
            for c in node.items:
                visit(c, here, node.aggregate)
        elif (node.missing or s.missing) == "drop" and parent_agg == "sum":
            probs.append(
                Problem(
                    where,
                    "missing: drop leaves an item out of a weighted mean, but its parent adds up "
                    "points (aggregate: sum); use zero or full, or a mean",
                )
            )

    for line in s.lines:
        visit(line, (), "")
    return probs


def _check_adjustments(s: Scheme) -> list[Problem]:
    probs: list[Problem] = []
    for adj in s.adjustments:
        where = f"adjustments › {adj.id}"
        for ind in adj.per_case:
            probs += _need_indicator(s, ind, where)
            if ind in s.indicators and s.indicators[ind].kind != "count":
                probs.append(Problem(where, f"per_case counts '{ind}', which must be declared kind: count"))
        if adj.assessed:
            probs += _need_indicator(s, adj.assessed.indicator, where)
            if adj.assessed.min > adj.assessed.max:
                probs.append(Problem(where, "assessed min is above max"))
        probs += _need_kinds(s, adj.applies_to, where)
    return probs


def _check_vetoes(s: Scheme) -> list[Problem]:
    probs: list[Problem] = []
    for v in s.vetoes:
        where = f"vetoes › {v.id}"
        for c in v.when.walk():
            if c.missed is not None and not isinstance(s.nodes.get(c.missed), Item):
                probs.append(Problem(where, f"'missed: {c.missed}' does not name an item"))
            elif c.missed is not None and rule_type(s.nodes[c.missed].rule.type).score:
                probs.append(
                    Problem(
                        where,
                        f"'missed: {c.missed}' names a normalised item, which has no target to miss; "
                        "put a condition on its indicator instead",
                    )
                )
            if c.indicator is not None:
                probs += _need_indicator(s, c.indicator, where)
                if c.indicator in s.indicators and s.indicators[c.indicator].kind == "label":
                    probs.append(
                        Problem(where, f"condition on '{c.indicator}', a label: conditions compare numbers")
                    )
        probs += _need_kinds(s, v.applies_to, where)
    return probs


def _check_outcomes(s: Scheme) -> list[Problem]:
    """Tie-break and rank_by nodes exist, tiebreak has an order, ids are unique, and every
    ``applies_to`` names known kinds (each problem names its outcome)."""
    o = s.outcomes
    every = (*o.tiers, *o.single_awards, *o.warnings)
    refs = [("tie_break", "", n) for n in o.tie_break]
    refs += [(a.id, "rank_by ", a.rank_by) for a in o.single_awards]
    probs = [
        Problem(f"outcomes › {w}", f"{key}'{n}' is not a line, section or item")
        for w, key, n in refs
        if n not in s.nodes
    ]
    if o.ties == "tiebreak" and not o.tie_break:
        probs.append(
            Problem("outcomes › ties", "ties: tiebreak needs a tie_break order (nodes compared in turn)")
        )
    ids = [x.id for x in every]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    probs += [Problem(f"outcomes › {i}", "outcome id is used twice") for i in dup]
    for x in every:
        probs += _need_kinds(s, x.applies_to, f"outcomes › {x.id}")
    return probs + _need_kinds(s, o.applies_to, "outcomes")


def _check_ranges(s: Scheme) -> list[Problem]:
    probs = [
        Problem(f"indicators › {ind_id}", "min is above max")
        for ind_id, ind in s.indicators.items()
        if ind.min is not None and ind.max is not None and ind.min > ind.max
    ]
    if s.years[0] > s.years[1]:
        probs.append(Problem("years", f"start {s.years[0]} is after end {s.years[1]}"))
    return probs


# --------------------------------------------------------------------------- loading
def error_path(raw: Any, loc: tuple) -> str:
    """Render a pydantic error location with the ids of the nodes it passes through
    (``lines › main › basic › pr › rule``), for messages about a YAML file."""
    parts: list[str] = []
    cur = raw
    for key in loc:
        if isinstance(key, int) and isinstance(cur, list) and 0 <= key < len(cur):
            cur = cur[key]
            name = cur.get("id") if isinstance(cur, dict) else None
            parts.append(str(name) if name else f"[{key}]")
        elif isinstance(cur, dict) and key in cur:
            cur = cur[key]
            if key not in ("items", "lines"):
                parts.append(str(key))
        else:
            # discriminator tags and union branches: keep only meaningful field names
            if (
                isinstance(key, str)
                and key not in ("item", "section")
                and not key.startswith(("function-", "float", "CategoryTarget", "TableTarget"))
            ):
                parts.append(key)
    return SEP.join(parts)


_loc_to_path = error_path  # its old private name


def schemes_dir() -> Path:
    """The folder of the bundled schemes (``$ASSESSKIT_SCHEMES`` overrides)."""
    env = os.environ.get("ASSESSKIT_SCHEMES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "params" / "schemes"


def bundled_schemes() -> list[Path]:
    """Paths of the bundled scheme files, sorted by name."""
    return sorted(schemes_dir().glob("*.yaml"))


def resolve_scheme_path(name_or_path: str | os.PathLike) -> Path:
    """A path as given, or the bundled scheme of that id / file stem."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    cand = schemes_dir() / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    known = ", ".join(q.stem for q in bundled_schemes())
    raise SchemeError(f"no scheme file or bundled scheme named '{name_or_path}' (bundled: {known})")


def parse_scheme(raw: Any, where: str = "<scheme>") -> Scheme:
    """Validate already-parsed YAML into a :class:`Scheme`, reporting every problem."""
    if not isinstance(raw, dict):
        raise SchemeError(f"{where}: a scheme file must be a mapping of keys, got {type(raw).__name__}")
    try:
        scheme = Scheme.model_validate(raw)
    except ValidationError as exc:
        probs = []
        for e in exc.errors():
            path = error_path(raw, e["loc"])
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                msg = f"unknown key '{e['loc'][-1]}'"
            elif e["type"] == "union_tag_invalid":
                msg = f"unknown rule type {e.get('input', {}).get('type')!r}; expected one of {e['ctx']['expected_tags']}"
            probs.append(Problem(f"{where}: {path}" if path else where, msg))
        raise SchemeError(f"{where} is not a valid scheme ({len(probs)} problems)", probs) from None
    probs = check_scheme(scheme)
    if probs:
        probs = [Problem(f"{where}: {p.where}", p.message, p.severity) for p in probs]
        raise SchemeError(f"{where} is not a valid scheme ({len(probs)} problems)", probs)
    return scheme


def load_scheme(name_or_path: str | os.PathLike) -> Scheme:
    """Load and validate a scheme from a YAML file or a bundled scheme's name.

    Parameters
    ----------
    name_or_path : str or path
        A ``.yaml`` path, or the stem of a file in ``params/schemes/``.

    Returns
    -------
    Scheme
        The frozen, checked scheme.

    Raises
    ------
    SchemeError
        With every problem found (YAML syntax with its line, unknown keys, unknown rule
        types, sums that do not add up with the path and the numbers, dangling references).
    """
    path = resolve_scheme_path(name_or_path)
    return parse_scheme(read_yaml(path, SchemeError, "scheme"), str(path))


def scheme_json_schema() -> dict[str, Any]:
    """The JSON Schema of scheme files, for editors (``assesskit json-schema``)."""
    out = Scheme.model_json_schema()
    out["title"] = "assesskit scheme"
    return out
