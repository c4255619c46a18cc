"""Statistics for comparing units, computed from counts (pure functions → tidy DataFrames).

- :mod:`.proportions` — sex ratio at birth (Wilson / Clopper–Pearson / Katz intervals, the
  exact one-sided test against 107, Holm and BH flags, the national series), proportions,
  year-over-year change (Newcombe), heterogeneity (Pearson χ², φ);
- :mod:`.trends` — Cochran–Armitage, logistic regression on year, Mann–Kendall (exact for n ≤ 10);
- :mod:`.funnel` — exact binomial limits with Spiegelhalter's interpolation (or PHE's normal
  approximation), Poisson limits; :mod:`.dispersion` — over-dispersion (winsorised φ, τ²) on
  the raw or FunnelPlotR's arcsine scale;
- :mod:`.diagnostics` — indicator diagnostics for scheme design (ceiling, discrimination,
  attainability, redundancy, Cronbach's α, effective weights);
- :mod:`.quality` — data-quality diagnostics (bunching above a target, inconsistent reported
  rates and counts, terminal-digit heaping).
"""

from .diagnostics import (
    correlation_matrix,
    cronbach_alpha,
    effective_weights,
    item_correlations,
    item_diagnostics,
    section_alpha,
    target_attainability,
)
from .funnel import (
    binomial_limits,
    funnel_limits,
    funnel_proportions,
    funnel_ratios,
    funnel_sex_ratio,
    normal_limits,
    overdispersion,
    poisson_limits,
)
from .proportions import (
    adjust_pvalues,
    binomial_interval,
    compare_with_national,
    heterogeneity,
    national_srb,
    proportion_change,
    proportion_ci,
    sex_ratio,
    share_from_srb,
    srb_from_share,
)
from .quality import bunching, count_consistency, digit_heaping, rate_consistency
from .trends import cochran_armitage, logistic_trend, mann_kendall, mann_kendall_null

__all__ = [
    "adjust_pvalues",
    "binomial_interval",
    "binomial_limits",
    "bunching",
    "cochran_armitage",
    "compare_with_national",
    "correlation_matrix",
    "count_consistency",
    "cronbach_alpha",
    "digit_heaping",
    "effective_weights",
    "funnel_limits",
    "funnel_proportions",
    "funnel_ratios",
    "funnel_sex_ratio",
    "heterogeneity",
    "item_correlations",
    "item_diagnostics",
    "logistic_trend",
    "mann_kendall",
    "mann_kendall_null",
    "national_srb",
    "normal_limits",
    "overdispersion",
    "poisson_limits",
    "proportion_change",
    "proportion_ci",
    "rate_consistency",
    "section_alpha",
    "sex_ratio",
    "share_from_srb",
    "srb_from_share",
    "target_attainability",
]
