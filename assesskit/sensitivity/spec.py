"""Sensitivity specs: the uncertainty factors of a scheme, as validated data.

A spec is a YAML file in ``params/sensitivity/`` (or the same models built in Python).
Its keys are the fields of the models below; unknown keys are errors, and every problem
is reported at once with the file and the path inside it (``factors › policy_target ›
shift``), like scheme files.

Each factor is one dimension of the uncertainty — one Sobol variable. Its value in a draw
comes from one uniform number ``u`` in [0, 1):

* **continuous** factors map ``u`` onto a range (a target shift of −1 … +1);
* **discrete** factors pick one of their alternatives (a veto on or off, a missing-data
  policy, which section is left out);
* composite indices have three kinds of their own: ``weight_noise`` (COINr's noisy
  weights at one level), ``normalisation`` and ``aggregation`` alternatives;
* **random-vector** factors (weights, weight noise, data noise) need many numbers per draw: each draw
  gets a *realisation*, one of ``realizations`` seeded realisations picked by ``u`` in
  Sobol runs (a "trigger"). In Monte Carlo runs weights are drawn afresh for every draw;
  data noise cycles through its ``realizations`` (default 1000: draw *i* uses realisation
  *i* mod 1000), each generated once, so that resampling thousands of units' counts does
  not dominate the run. Raise ``realizations`` for finer noise.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, model_validator

from .._io import read_yaml
from ..exceptions import AssessKitError, Problem
from ..kernel.rules import RULE_TYPES, rule_type
from ..scheme import SEP, Item, Scheme, Section, error_path

RuleType = Literal[tuple(n for n, t in RULE_TYPES.items() if not t.score)]  # type: ignore[valid-type]
"""The rule types a factor may select (every registered type scored as a share of points)."""


class SpecError(AssessKitError):
    """A sensitivity spec is malformed or names what its scheme does not have."""


from .composite_spec import (  # noqa: E402
    COMPOSITE_CHECKS,
    AggregationFactor,
    NormalisationFactor,
    WeightNoiseFactor,
)
from .factor_base import _Factor, _Model  # noqa: E402


class WeightsFactor(_Factor):
    """Item points or section weights, perturbed around the nominal.

    ``nodes`` (default: every item) are the lines, sections or items whose points vary;
    every item under a node is scaled by the node's multiplier. ``uniform``: independent
    multipliers in ``[1 − spread, 1 + spread]``; ``dirichlet``: the nodes' shares of their
    summed points drawn from a Dirichlet around the nominal shares (``concentration``:
    higher is tighter). With ``keep_total`` (default) the nodes' summed points stay
    nominal (always so for dirichlet).
    """

    type: Literal["weights"]
    nodes: list[str] | None = None
    dist: Literal["uniform", "dirichlet"] = "uniform"
    spread: float = Field(0.2, ge=0, lt=1)
    concentration: float = Field(100.0, gt=0)
    keep_total: bool = True
    realizations: int = Field(64, ge=2)


class _ItemSelection(_Factor):
    items: list[str] | None = None
    rule_type: RuleType | None = None
    each: bool = False

    @model_validator(mode="after")
    def _selects(self):
        if self.items is None and self.rule_type is None:
            raise ValueError("name the items (items: [...]) or a rule type (rule_type: threshold)")
        return self


class TargetFactor(_ItemSelection):
    """Target levels: one shift for the selected items (``each: true``: one factor per
    item). Exactly one of ``shift: [lo, hi]`` (added), ``relative: [lo, hi]`` (target ×
    (1 + r)) or ``values: [...]`` (alternative targets, equally likely)."""

    type: Literal["target"]
    shift: tuple[float, float] | None = None
    relative: tuple[float, float] | None = None
    values: list[float] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_mode(self) -> TargetFactor:
        modes = [m for m in ("shift", "relative", "values") if getattr(self, m) is not None]
        if len(modes) != 1:
            raise ValueError(f"give exactly one of shift, relative or values (got {modes or 'none'})")
        for m in ("shift", "relative"):
            r = getattr(self, m)
            if r is not None and r[0] > r[1]:
                raise ValueError(f"{m}: the low end {r[0]:g} is above the high end {r[1]:g}")
        return self


class VetoFactor(_Factor):
    """Veto and eligibility rules switched off with probability ``p_off`` (default: every
    rule, together; ``each: true``: one factor per rule)."""

    type: Literal["veto"]
    vetoes: list[str] | None = None
    p_off: float = Field(0.5, ge=0, le=1)
    each: bool = False


class RuleFormFactor(_ItemSelection):
    """Alternative rule forms: threshold items get proportional (linear) credit, linear
    items all-or-nothing credit at their target, with probability ``p_alternative``.

    Proportional credit for ``>=`` (``>``) thresholds runs from 0 at ``floor`` (default 0)
    to full at the target; ``<=`` (``<``) thresholds need a ``ceiling`` (0 credit there).
    """

    type: Literal["rule_form"]
    floor: float = 0.0
    ceiling: float | None = None
    p_alternative: float = Field(0.5, ge=0, le=1)


class MissingFactor(_Factor):
    """The missing-data policy, one of ``alternatives`` (equally likely), for the items
    that follow the scheme's policy (``items:`` to choose them yourself)."""

    type: Literal["missing_policy"]
    alternatives: list[Literal["zero", "full"]] = Field(
        default_factory=lambda: ["zero", "full"], min_length=2
    )
    items: list[str] | None = None


class NoiseFactor(_Factor):
    """Data noise: the counts behind rates (or plain columns) resampled per draw.

    ``binomial``: the numerator ~ Binomial(denominator, numerator / denominator) — for a
    share, one numerator count of one denominator count; ``beta``: the rate's posterior,
    Beta(numerator + prior, denominator − numerator + prior) × scale (the rate only; other
    indicators sharing its counts keep them); ``poisson``: every count term (or a count
    column) ~ Poisson(count); ``normal``: a plain numeric column (e.g. inspector grades)
    plus ``sd`` or times (1 + ``rel_sd`` · ε), kept within the indicator's min/max.
    Indicators sharing resampled counts follow them. Previous-year counts (for change
    rules) are resampled too. ``rule_type: graded`` selects every indicator read by items of that
    rule type instead of listing them.
    """

    type: Literal["data_noise"]
    indicators: list[str] | None = Field(None, min_length=1)
    rule_type: RuleType | None = None
    model: Literal["binomial", "beta", "poisson", "normal"]
    prior: float = Field(0.5, gt=0)
    sd: float | None = Field(None, ge=0)
    rel_sd: float | None = Field(None, ge=0)
    realizations: int = Field(1000, ge=2)

    @model_validator(mode="after")
    def _normal(self) -> NoiseFactor:
        if (self.indicators is None) == (self.rule_type is None):
            raise ValueError(
                "name the indicators (indicators: [...]) or a rule type whose indicators are "
                "resampled (rule_type: graded), not both"
            )
        if self.model == "normal" and (self.sd is None) == (self.rel_sd is None):
            raise ValueError("normal noise needs exactly one of sd or rel_sd")
        if self.model != "normal" and (self.sd is not None or self.rel_sd is not None):
            raise ValueError("sd and rel_sd belong to model: normal")
        return self


class LeaveOutFactor(_Factor):
    """Leaving out one section or item: nothing is left out with probability ``p_keep``
    (default 1 / (number of nodes + 1)), otherwise one of ``nodes``, equally likely.

    A left-out item earns nothing and is never *missed* (a veto on it cannot fire); its
    points are not redistributed.
    """

    type: Literal["leave_out"]
    nodes: list[str] = Field(min_length=1)
    p_keep: float | None = Field(None, ge=0, le=1)


Factor = Annotated[
    Union[
        WeightsFactor,
        TargetFactor,
        VetoFactor,
        RuleFormFactor,
        MissingFactor,
        NoiseFactor,
        LeaveOutFactor,
        WeightNoiseFactor,
        NormalisationFactor,
        AggregationFactor,
    ],
    Field(discriminator="type"),
]


class SobolSettings(_Model):
    """The Saltelli design: ``n`` base samples (a power of 2), ``n × (factors + 2)`` runs."""

    n: int = Field(256, ge=2)
    num_resamples: int = Field(100, ge=10)
    conf_level: float = Field(0.95, gt=0, lt=1)

    @model_validator(mode="after")
    def _power_of_two(self) -> SobolSettings:
        if self.n & (self.n - 1):
            raise ValueError(f"n must be a power of 2 (Sobol' sequences), got {self.n}")
        return self


class Spec(_Model):
    """A sensitivity spec: the factors, and defaults for draws, seed, top-k and Sobol."""

    id: str | None = None
    label: str | None = None
    scheme: str | None = None
    description: str | None = None
    draws: int = Field(1000, ge=1)
    seed: int = Field(0, ge=0)
    top_k: int = Field(3, ge=1)
    sobol: SobolSettings = Field(default_factory=SobolSettings)
    factors: list[Factor] = Field(default_factory=list)


# --------------------------------------------------------------------------- checks
def _items_under(scheme: Scheme, node_id: str) -> list[int]:
    return [j for j, (p, _it) in enumerate(scheme.flat_items) if node_id in p]


def selected_items(scheme: Scheme, f: _ItemSelection | MissingFactor) -> list[int]:
    """Indices (into ``scheme.flat_items``) of the items a factor selects."""
    flat = scheme.flat_items
    if f.items is not None:
        out: list[int] = []
        for nid in f.items:
            out += [j for j in _items_under(scheme, nid) if j not in out]
    else:
        out = list(range(len(flat)))
    rt = getattr(f, "rule_type", None)
    if rt is not None:
        out = [j for j in out if flat[j][1].rule.type == rt]
    return out


def _has_target(item: Item) -> bool:
    return getattr(item.rule, "target", None) is not None


def check_spec(spec: Spec, scheme: Scheme) -> list[Problem]:
    """Check a spec against the scheme it will perturb; returns every problem found."""
    probs: list[Problem] = []
    if spec.scheme is not None and spec.scheme != scheme.id:
        probs.append(Problem("scheme", f"the spec is for scheme '{spec.scheme}', not '{scheme.id}'"))
    seen: dict[str, int] = {}
    for f in spec.factors:
        seen[f.id] = seen.get(f.id, 0) + 1
    for fid, c in seen.items():
        if c > 1:
            probs.append(Problem(f"factors › {fid}", f"factor id '{fid}' is used {c} times"))
    # what earlier factors claimed (and the spec, for checks that read other factors)
    taken: dict = {"form_items": {}, "noise_cols": {}, "norm_items": {}, "spec": spec}
    for f in spec.factors:
        probs += _FACTOR_CHECKS[type(f)](f, scheme, taken)
    return probs


def _where(f, key: str | None = None) -> str:
    return SEP.join(["factors", f.id] + ([key] if key else []))


def _known_nodes(f, key: str, ids: list[str], scheme: Scheme, *, lines: bool = True) -> list[Problem]:
    probs = []
    for nid in ids:
        if nid not in scheme.nodes:
            probs.append(
                Problem(_where(f, key), f"'{nid}' is not a line, section or item of scheme '{scheme.id}'")
            )
        elif not lines and any(ln.id == nid for ln in scheme.lines):
            probs.append(Problem(_where(f, key), f"'{nid}' is a line: leave out sections or items"))
    return probs


def _check_weights(f: WeightsFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    if f.nodes is not None and (probs := _known_nodes(f, "nodes", f.nodes, scheme)):
        return probs
    flat = scheme.flat_items
    sel = range(len(flat)) if f.nodes is None else {j for nid in f.nodes for j in _items_under(scheme, nid)}
    scored = [flat[j][1].id for j in sel if rule_type(flat[j][1].rule.type).score]
    if scored:
        return [
            Problem(
                _where(f, "nodes"),
                f"item(s) {', '.join(scored[:5])} are scores of a composite index with relative weights, "
                "not points: vary them with a weight_noise factor",
            )
        ]
    if f.nodes is None:
        return []
    probs = []
    sets = {nid: set(_items_under(scheme, nid)) for nid in f.nodes}
    ids = list(sets)
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if sets[ids[a]] & sets[ids[b]]:
                probs.append(
                    Problem(
                        _where(f, "nodes"), f"'{ids[a]}' and '{ids[b]}' overlap (one lies inside the other)"
                    )
                )
    if len(f.nodes) < 2 and f.dist == "dirichlet":
        probs.append(Problem(_where(f, "nodes"), "dirichlet weights need at least two nodes"))
    return probs


def _check_item_factor(f: TargetFactor | RuleFormFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    if f.items is not None and (probs := _known_nodes(f, "items", f.items, scheme)):
        return probs
    sel = selected_items(scheme, f)
    if not sel:
        return [Problem(_where(f), "selects no item")]
    flat = scheme.flat_items
    if isinstance(f, RuleFormFactor):
        return _check_rule_form(f, [flat[j][1] for j in sel], sel, taken["form_items"])
    bad = [flat[j][1].id for j in sel if not _has_target(flat[j][1])]
    if bad and f.items is not None:
        msg = "have no target (only threshold, linear and bands rules with a target can be shifted)"
        return [Problem(_where(f, "items"), f"item(s) {', '.join(bad)} {msg}")]
    return []


def _check_rule_form(f: RuleFormFactor, items: list[Item], sel: list[int], form_items: dict) -> list[Problem]:
    """Items with another form in the registry; a ceiling for '<=' thresholds; bounds beyond the targets."""
    probs = []
    forms = [n for n, t in RULE_TYPES.items() if t.alternative is not None]
    bad = [it.id for it in items if rule_type(it.rule.type).alternative is None]
    if bad:
        probs.append(
            Problem(
                _where(f, "items"),
                f"item(s) {', '.join(bad)} are neither {' nor '.join(forms)}: "
                "rule_form switches threshold ↔ proportional credit",
            )
        )
    thresholds = [it for it in items if it.rule.type == "threshold"]
    need_ceiling = [it.id for it in thresholds if it.rule.op in ("<=", "<")]
    if need_ceiling and f.ceiling is None:
        probs.append(
            Problem(
                _where(f, "ceiling"),
                f"'<=' threshold item(s) {', '.join(need_ceiling)} need a ceiling "
                "(the value at which proportional credit falls to 0)",
            )
        )
    for it in thresholds:
        up = it.rule.op in (">=", ">")
        bound = f.floor if up else f.ceiling
        t = it.rule.target
        fixed = (
            [t]
            if isinstance(t, (int, float))
            else list(getattr(t, "by_category", {}).values())
            + ([t.default] if getattr(t, "default", None) is not None else [])
        )
        if bound is not None and any((bound >= x) if up else (bound <= x) for x in fixed):
            probs.append(
                Problem(
                    _where(f, "floor" if up else "ceiling"),
                    f"{'floor' if up else 'ceiling'} {bound:g} must lie "
                    f"{'below' if up else 'above'} the target of item '{it.id}' "
                    f"({', '.join(f'{x:g}' for x in fixed)})",
                )
            )
    for j, it in zip(sel, items):
        if j in form_items:
            probs.append(
                Problem(
                    _where(f, "items"),
                    f"item '{it.id}' already has its rule form varied by factor '{form_items[j]}'",
                )
            )
        form_items[j] = f.id
    return probs


def _check_veto(f: VetoFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    ids = {v.id for v in scheme.vetoes}
    probs = (
        []
        if scheme.vetoes
        else [Problem(_where(f), f"scheme '{scheme.id}' has no veto or eligibility rules")]
    )
    known = ", ".join(sorted(ids)) or "none"
    return probs + [
        Problem(_where(f, "vetoes"), f"'{vid}' is not a veto of scheme '{scheme.id}' (vetoes: {known})")
        for vid in f.vetoes or []
        if vid not in ids
    ]


def _check_missing(f: MissingFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    return _known_nodes(f, "items", f.items, scheme) if f.items is not None else []


def _check_leave_out(f: LeaveOutFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    return _known_nodes(f, "nodes", f.nodes, scheme, lines=False)


def _noise_columns(f: NoiseFactor, ind_id: str, ind) -> tuple[list[str], str | None]:
    """The count columns ``f`` resamples for an indicator, or the reason it cannot."""
    if ind.kind == "label":
        return [], f"'{ind_id}' holds labels: noise needs numbers"
    if f.model in ("binomial", "beta"):
        simple = (
            ind.is_rate
            and len(ind.numerator) == 1
            and len(ind.denominator) == 1
            and not ind.numerator[0].startswith("-")
            and not ind.denominator[0].startswith("-")
            and ind.max is not None
            and ind.max <= ind.scale
        )
        if not simple:
            return [], (
                f"{f.model} noise needs a share — one numerator count out of one "
                f"denominator count, declared with max ≤ scale; '{ind_id}' is not one "
                "(use poisson)"
            )
        return ([ind.numerator[0]] if f.model == "binomial" else []), None
    if f.model == "poisson":
        if ind.is_rate:
            return [t.lstrip("-") for t in ind.numerator + ind.denominator], None
        if ind.kind == "count":
            return [ind.column or ind_id], None
        return [], f"poisson noise needs counts; '{ind_id}' is neither a rate nor a count"
    if ind.is_rate:  # normal
        return [], (
            f"normal noise applies to plain columns; '{ind_id}' is a rate "
            "(use binomial, beta or poisson on its counts)"
        )
    return [ind.column or ind_id], None


def _check_noise(f: NoiseFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    probs = []
    noise_cols = taken["noise_cols"]
    w = _where(f, "indicators")
    for ind_id in noise_indicators(f, scheme):
        ind = scheme.indicators.get(ind_id)
        if ind is None:
            probs.append(Problem(w, f"'{ind_id}' is not an indicator of scheme '{scheme.id}'"))
            continue
        cols, why = _noise_columns(f, ind_id, ind)
        if why is not None:
            probs.append(Problem(w, why))
        for c in cols:
            if c in noise_cols and noise_cols[c] != f.id:
                probs.append(Problem(w, f"column '{c}' is already resampled by factor '{noise_cols[c]}'"))
            noise_cols[c] = f.id
    return probs


_FACTOR_CHECKS: dict = {
    WeightsFactor: _check_weights,
    TargetFactor: _check_item_factor,
    RuleFormFactor: _check_item_factor,
    VetoFactor: _check_veto,
    MissingFactor: _check_missing,
    NoiseFactor: _check_noise,
    LeaveOutFactor: _check_leave_out,
    **COMPOSITE_CHECKS,
}


def noise_indicators(f: NoiseFactor, scheme: Scheme) -> list[str]:
    """The indicators a noise factor resamples (listed, or read by items of its rule type)."""
    if f.indicators is not None:
        return list(f.indicators)
    return list(
        dict.fromkeys(it.rule.indicator for _p, it in scheme.flat_items if it.rule.type == f.rule_type)
    )


def expand(spec: Spec, scheme: Scheme) -> list:
    """The factors with ``each: true`` split into one factor per item or veto
    (ids ``<factor>.<item>``), in spec order."""
    out: list = []
    for f in spec.factors:
        if isinstance(f, (TargetFactor, RuleFormFactor)) and f.each:
            flat = scheme.flat_items
            sel = selected_items(scheme, f)
            if isinstance(f, TargetFactor):
                sel = [j for j in sel if _has_target(flat[j][1])]
            for j in sel:
                iid = flat[j][1].id
                out.append(f.model_copy(update={"id": f"{f.id}.{iid}", "items": [iid], "each": False}))
        elif isinstance(f, VetoFactor) and f.each:
            for v in scheme.vetoes:
                if f.vetoes is None or v.id in f.vetoes:
                    out.append(f.model_copy(update={"id": f"{f.id}.{v.id}", "vetoes": [v.id], "each": False}))
        else:
            out.append(f)
    return out


# --------------------------------------------------------------------------- loading
def parse_spec(raw: Any, where: str = "<spec>", scheme: Scheme | None = None) -> Spec:
    """Validate already-parsed YAML (a dict) into a :class:`Spec`.

    With ``scheme``, also check every name against it. Raises :class:`SpecError` listing
    every problem with ``where`` (the file) and the path inside it.
    """
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: a sensitivity spec must be a mapping of keys, got {type(raw).__name__}")
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        probs = []
        for e in exc.errors():
            path = error_path(raw, _drop_tags(e["loc"]))
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = f"unknown key '{e['loc'][-1]}'"
            elif e["type"] == "union_tag_invalid":
                msg = (
                    f"unknown factor type {e.get('input', {}).get('type')!r}; "
                    f"expected one of {e['ctx']['expected_tags']}"
                )
            elif e["type"] == "union_tag_not_found":
                msg = f"a factor needs a type, one of {', '.join(_FACTOR_TAGS)}"
            probs.append(Problem(f"{where}: {path}" if path else where, msg))
        raise SpecError(f"{where} is not a valid sensitivity spec ({len(probs)} problems)", probs) from None
    if scheme is not None:
        probs = check_spec(spec, scheme)
        if probs:
            probs = [Problem(f"{where}: {p.where}", p.message) for p in probs]
            raise SpecError(f"{where} does not fit scheme '{scheme.id}' ({len(probs)} problems)", probs)
    return spec


def _drop_tags(loc: tuple) -> tuple:
    """A pydantic location without the discriminator tag after a factor's index."""
    out: list = []
    for i, key in enumerate(loc):
        after_factor = i >= 2 and loc[i - 2] == "factors" and isinstance(loc[i - 1], int)
        if after_factor and key in _FACTOR_TAGS:
            continue
        out.append(key)
    return tuple(out)


_FACTOR_TAGS = (
    "weights",
    "target",
    "veto",
    "rule_form",
    "missing_policy",
    "data_noise",
    "leave_out",
    "weight_noise",
    "normalisation",
    "aggregation",
)


def specs_dir() -> Path:
    """The folder of the bundled sensitivity specs (``params/sensitivity``)."""
    return Path(__file__).resolve().parents[2] / "params" / "sensitivity"


def load_spec(path: str | os.PathLike, scheme: Scheme | None = None) -> Spec:
    """Load a sensitivity spec from YAML (a path, or the stem of a bundled spec).

    Parameters
    ----------
    path : str or path
        A ``.yaml`` file, or the name of one in ``params/sensitivity/``.
    scheme : Scheme, optional
        Check the spec's names against this scheme too.

    Raises
    ------
    SpecError
        With every problem: broken YAML (line, column), unknown keys or factor types,
        bad values, and names the scheme lacks — each with the file and the path.
    """
    p = Path(path)
    if not p.exists() and p.suffix not in (".yaml", ".yml"):
        cand = specs_dir() / f"{path}.yaml"
        if cand.exists():
            p = cand
    return parse_spec(read_yaml(p, SpecError, "sensitivity spec"), str(p), scheme)


def node_items(scheme: Scheme, node_id: str) -> list[int]:
    """Indices of the items under a line, section or item."""
    return _items_under(scheme, node_id)


def is_section(scheme: Scheme, node_id: str) -> bool:
    return isinstance(scheme.nodes.get(node_id), Section)


def power_of_two_at_least(n: int) -> int:
    return 1 << max(1, math.ceil(math.log2(max(n, 2))))
