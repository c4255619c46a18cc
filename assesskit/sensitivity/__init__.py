"""Sensitivity of rankings: how much of a league table is design, and how much is noise.

For one scheme and panel (usually one year), assesskit perturbs what researchers doubt —
item points and section weights (composite indices: relative weights per level,
normalisation and aggregation), target levels, vetoes, the form of credit, the
missing-data policy, the data themselves, which sections are kept — and scores thousands
of draws at once with the same semantics as the main engine (a test checks that the
nominal draw reproduces it bit for bit). Pure functions throughout: every random number
comes from a ``seed``.

Example::

    import assesskit as ak
    from assesskit import sensitivity as sa

    base = sa.baseline(ak.load_scheme("district_1000"), "panel.csv", units="units.csv",
                       targets="targets.csv", grades="grades.csv", year=2012)
    spec = sa.load_spec("district_1000", base.scheme)   # params/sensitivity/district_1000.yaml
    sim = sa.simulate(base, spec, draws=2000, seed=0)   # rank intervals, tier probabilities
    sob = sa.sobol(base, spec, n=256, seed=0)           # Sobol first and total indices
    loo = sa.leave_one_out(base)                        # leave each section / item out
    cf = sa.counterfactuals(base)                       # smallest single-indicator changes
    cmp = sa.compare_schemes(res_full, res_reduced)     # scheme against scheme
    run = sa.analyse(base, spec)                        # all of it, as the CLI writes it

Modules: :mod:`.spec` (factors, spec files), :mod:`.engine` (perturbed inputs for the
kernel, :mod:`assesskit.kernel`),
:mod:`.sampling` (factors → perturbations), :mod:`.analysis` (Monte Carlo, Sobol,
leave-one-out, Kendall's τ), :mod:`.counterfactual`, :mod:`.compare`.
"""

from .analysis import (
    Analysis,
    LeaveOneOut,
    Simulation,
    SobolResult,
    analyse,
    auto_chunk,
    kendall_tau,
    leave_one_out,
    simulate,
    sobol,
)
from .compare import Comparison, compare_schemes, variant, without_vetoes
from .counterfactual import counterfactuals
from .engine import (
    Baseline,
    Outcome,
    Perturbation,
    baseline,
    evaluate,
    from_result,
    materialise,
    rank_draws,
)
from .spec import (
    AggregationFactor,
    LeaveOutFactor,
    MissingFactor,
    NoiseFactor,
    NormalisationFactor,
    RuleFormFactor,
    SobolSettings,
    Spec,
    SpecError,
    TargetFactor,
    VetoFactor,
    WeightNoiseFactor,
    WeightsFactor,
    check_spec,
    load_spec,
    parse_spec,
)

__all__ = [
    "AggregationFactor",
    "Analysis",
    "Baseline",
    "Comparison",
    "LeaveOneOut",
    "LeaveOutFactor",
    "MissingFactor",
    "NoiseFactor",
    "NormalisationFactor",
    "Outcome",
    "Perturbation",
    "RuleFormFactor",
    "Simulation",
    "SobolResult",
    "SobolSettings",
    "Spec",
    "SpecError",
    "TargetFactor",
    "VetoFactor",
    "WeightNoiseFactor",
    "WeightsFactor",
    "analyse",
    "auto_chunk",
    "baseline",
    "check_spec",
    "compare_schemes",
    "counterfactuals",
    "evaluate",
    "from_result",
    "kendall_tau",
    "leave_one_out",
    "load_spec",
    "materialise",
    "parse_spec",
    "rank_draws",
    "simulate",
    "sobol",
    "variant",
    "without_vetoes",
]
