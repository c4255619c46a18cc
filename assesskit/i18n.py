"""The report language: one catalogue of labels, one function to render them.

Every label a report shows — headings, table headers, score-card rows, the index, the page
frame — is a key of :data:`LABELS`, mapped to its Chinese and English text. :func:`t`
renders a key in one of the :data:`LANGS`:

``zh``
    the Chinese text only (for an office);
``en``
    the English text only;
``bilingual`` (the default)
    the pages as they always were: the score card's labels as ``"总分 total"`` (the
    Chinese then the English text; entries made with ``_both``), everything else in
    English. An entry may give its own bilingual form (e.g. ``"{year} 年"``).

Texts may hold ``str.format`` fields (``"{year} 年"``), filled from :func:`t`'s keyword
arguments. Names that are the scheme's data (its lines, sections, items, kinds, tiers)
are not labels: :func:`pick` chooses between a scheme's ``label`` and ``label_en`` (the
Chinese name when the scheme gives no English one). Figures render their texts with
:func:`assesskit.plotting.label`, which uses :func:`pick` and falls back to English when no
CJK font is installed.

This module imports nothing heavy: the command line and the figures use it too.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["DEFAULT_LANG", "LABELS", "LANGS", "Lang", "Label", "check_lang", "pick", "t"]

Lang = Literal["zh", "en", "bilingual"]
LANGS: tuple[str, ...] = ("zh", "en", "bilingual")
DEFAULT_LANG = "bilingual"


class Label(NamedTuple):
    """One catalogue entry: the Chinese and English text (and, for sentences, the bilingual form)."""

    zh: str
    en: str
    bilingual: str | None = None  # None: the English text (what bilingual pages always showed)


def _both(zh: str, en: str) -> Label:
    """A label that bilingual pages show as ``"zh en"`` (``"总分 total"``)."""
    return Label(zh, en, f"{zh} {en}")


LABELS: dict[str, Label] = {
    # --- page frame and index
    "contents": Label("目录", "Contents"),
    "code": Label("代码", "code"),
    "synthetic_banner": Label(
        "合成数据 — 本页所有数字均由演示数据生成器虚构，请勿引用。",
        "SYNTHETIC DATA — every number on this page is invented by the demo generator; do not cite it.",
        "合成数据 SYNTHETIC DATA — every number on this page is invented by the demo generator; "
        "do not cite it.",
    ),
    "unit": Label("单位", "unit"),
    "units": Label("单位数", "units"),
    "year": Label("年份", "year"),
    "kind": Label("单位类型", "kind"),
    "category": Label("类别", "category"),
    "overview": Label("年度总览", "overview"),
    "annual_overview": _both("年度总览", "annual overview"),
    "unit_report": Label("单位报告", "unit report"),
    "scheme_comparison": _both("方案比较", "scheme comparison"),
    "compare_with": Label("比较：{what}", "compare: {what}"),
    "failures": Label("失败", "Failures"),
    "failed": Label("失败", "failed"),
    "failed_with": Label("失败：{why}", "failed: {why}"),
    "not_scored": Label("未计分", "not scored"),
    "not_scored_with": Label("未计分：{why}", "not scored: {why}"),
    "veto": _both("一票否决", "veto"),
    "veto_short": Label("一票否决", "veto"),
    "footer_overview": Label("年度总览", "annual overview"),
    "footer_comparison": Label("方案比较", "scheme comparison"),
    "index_parts": Label("单位索引（按单位编号分页）", "Index of units (pages by unit id)"),
    "index_part": Label("{first} … {last}（{n} 个单位）", "{first} … {last} ({n} units)"),
    "index_back": Label("返回总索引", "back to the index"),
    "index_more_failures": Label(
        "另有 {n} 个失败（见 manifest.json）", "{n} more failures (see manifest.json)"
    ),
    "pages": Label("页", "pages"),
    "manifest_note": Label("manifest.json 记录各输入的 SHA-256", "manifest.json has the inputs' SHA-256"),
    "seed": Label("随机种子", "seed"),
    "run": Label("运行", "run"),
    # --- unit page: header and score card
    "year_n": Label("{year} 年", "{year}", "{year} 年"),
    "rank_same_kind": Label(
        "名次（同类单位，同一年）", "rank (same kind, same year)", "名次 rank (same kind, same year)"
    ),
    "rank_of": Label("第 {rank} 名，共 {n} 个", "{rank} of {n}", "{rank} of {n}"),
    "rank_out_of": Label("—（未参加 {n} 个单位的排名）", "— (out of the ranking of {n})"),
    "rank_in_category": _both("类别内名次", "rank in category"),
    "rank_paren": Label("（第 {rank} 名）", " (rank {rank})", " (rank {rank})"),
    "total": _both("总分", "total"),
    "bonus": _both("加分", "bonus"),
    "deduction": _both("扣分", "deduction"),
    "award": _both("奖项", "award"),
    "single_awards": _both("单项奖", "single-item awards"),
    "warning": _both("警告", "warning"),
    "ineligible": _both("取消评优", "ineligible for awards"),
    "none": Label("无", "none", "none"),
    "yes_with": Label("是：{why}", "yes: {why}", "yes: {why}"),
    "prize": Label("（奖金 {prize}）", " (prize {prize})", " (prize {prize})"),
    # --- unit page: items and tables
    "where": Label("条线 › 部分", "line › section"),
    "item": Label("指标", "item"),
    "points": Label("得分", "points"),
    "max": Label("满分", "max"),
    "value": Label("实际值", "value"),
    "target": Label("目标", "target"),
    "status": Label("状态", "status"),
    "reason_lost": Label("失分原因", "reason for lost points"),
    "status_met": Label("达标", "met", "met"),
    "status_missed": Label("未达标", "missed", "missed"),
    "status_partial": Label("部分达标", "partial", "partial"),
    "status_missing": Label("缺数据", "missing", "missing"),
    "status_graded": Label("考核评定", "graded", "graded"),
    "status_vetoed": Label("被否决", "vetoed", "vetoed"),
    "status_bonus": Label("加分", "bonus", "bonus"),
    "status_deduction": Label("扣分", "deduction", "deduction"),
    "lost_summary": Label(
        "{n} 个条目中有 {lost} 个失分，共失 {pts} 分。",
        "{lost} of {n} entries lost points: {pts} points in all.",
    ),
    "section": Label("部分", "section"),
    "share_pct": Label("得分率 %", "share %"),
    "peer_median_pct": Label("同类中位数 %", "peer median %"),
    "difference_pp": Label("差值（百分点）", "difference (pp)"),
    "births": Label("出生数", "births"),
    "srb": Label("出生人口性别比", "SRB"),
    "lower": Label("下限", "lower"),
    "upper": Label("上限", "upper"),
    "p_above": Label("p（单侧，> 107）", "p (one-sided, > 107)"),
    "national": Label("全国", "national"),
    "vs_national": Label("与全国比较", "vs national"),
    "note": Label("说明", "note"),
    "test": Label("检验", "test"),
    "statistic": Label("统计量", "statistic"),
    "p": Label("p 值", "p"),
    "direction": Label("方向", "direction"),
    "policy_births": Label("政策内出生", "policy births"),
    "percent": Label("%", "%", "%"),
    "flag": Label("问题", "flag"),
    "mann_kendall": Label("Mann–Kendall 检验（比率）", "Mann–Kendall (rates)"),
    "cochran_armitage": Label("Cochran–Armitage 检验（计数）", "Cochran–Armitage (counts)"),
    "srb_verdict": Label(
        "{year} 年：出生人口性别比 {srb}（95% 置信区间 {lo}–{hi}），出生 {births} 人；{flag}，"
        "在本年 {n} 个单位间校正。",
        "{year}: SRB {srb} (95% CI {lo}–{hi}), {births} births; {flag}, adjusted over the {n} units of the year.",
    ),
    "srb_above": Label("显著高于 107（Holm 校正）", "significantly above 107 (Holm)"),
    "srb_not_above": Label("未显著高于 107（Holm 校正）", "not significantly above 107 (Holm)"),
    "srb_not_tested": Label("未检验", "not tested"),
    "no_quality_flag": Label("本单位没有数据质量问题。", "No data-quality flag for this unit."),
    "few_births": Label("仅 {n} 例出生：比率波动很大", "only {n} births: rates are very noisy"),
    "rate_inconsistent": Label(
        "上报符合率 {rep}%，但按计数计算为 {comp}%", "reported compliance {rep}% but its counts give {comp}%"
    ),
    "missing_value": Label("缺少数值：{item}（{why}）", "missing value: {item} ({why})"),
    "narrow_margin": Label(
        "{item}：{v} 仅以 {m} 的差距达到目标 {t}", "{item}: {v} meets the target {t} by {m} only"
    ),
    "no_srb_columns": Label(
        "数据中没有 male_births / female_births 列：无出生人口性别比。",
        "The panel has no male_births / female_births columns: no sex ratio at birth.",
    ),
    "nothing_to_show": Label("无内容", "nothing to show", "nothing to show"),
    # --- unit page: the template's sections (heading, then one sentence)
    "h_score_card": Label("得分卡", "Score card"),
    "p_score_card": Label(
        "总分与各条线得分，本年同类单位中的名次，奖项、一票否决与评优资格。",
        "Total and line totals, the rank among the units of the same kind this year, awards, veto and "
        "eligibility.",
    ),
    "h_items": Label("考核指标", "Items"),
    "p_items": Label(
        "每个指标的得分、实际值、目标与状态；失分的行以底色标出，并给出原因。",
        "Every item with its points, value, target and status; rows that lost points are highlighted, with "
        "the reason.",
    ),
    "h_sections": Label("各部分与同类中位数", "Sections against the peer median"),
    "p_sections": Label(
        "各部分得分占满分的比例，与本年同类单位的中位数比较。",
        "Each section's share of its maximum, against the median of the units of the same kind this year.",
    ),
    "h_trend": Label("历年趋势", "Trend over the years"),
    "p_trend": Label("本单位各计分年度的总分。", "The unit's own totals in every scored year."),
    "h_srb": Label("出生人口性别比", "Sex ratio at birth"),
    "p_srb": Label(
        "本单位出生人口性别比及其 95% 置信区间，与正常范围 103–107 及全国数值比较；下图为本年各单位"
        "（本单位红色；对 107 的精确检验，在本年各单位间作 Holm 校正）。",
        "The unit's sex ratio at birth with its 95% interval against the normal band 103–107 and the national "
        "figure; below, this year's units with the unit in red (exact test against 107, Holm-adjusted over "
        "the year's units).",
    ),
    "h_compliance": Label("政策符合率", "Policy compliance"),
    "p_compliance": Label(
        "历年符合率及其 Wilson 区间，计数的 Cochran–Armitage 趋势检验与比率的 Mann–Kendall 检验。",
        "Compliance over the years with its Wilson interval, the Cochran–Armitage trend test on the counts "
        "and the Mann–Kendall test on the rates.",
    ),
    "h_quality": Label("数据质量", "Data quality"),
    "p_quality": Label(
        "来自本单位数据的提示：计数过小、计数运算、上报与计算的符合率、缺失值、勉强达标的目标。",
        "Flags from the unit's own rows: small counts, count arithmetic, reported against computed "
        "compliance, missing values, targets met by a narrow margin.",
    ),
    # --- overview
    "h_league": Label("排名表", "League table"),
    "p_league": Label(
        "各类单位按名次排列；被否决与未计分的单位以底色标出。",
        "Every unit of each kind, by rank; vetoed and unscored units are highlighted.",
    ),
    "h_awards": Label("奖项与一票否决", "Awards and vetoes"),
    "h_funnels": Label("漏斗图", "Funnel plots"),
    "p_funnels": Label(
        "各单位比率与其规模的关系，带 95% 与 99.8% 控制限（出生人口性别比以 107 为中心；符合率以合并"
        "比率为中心，并作加性过度离散校正）。",
        "Each unit's rate against its size, with 95% and 99.8% limits (sex ratio at birth centred on 107; "
        "compliance on the pooled rate, with an additive over-dispersion adjustment).",
    ),
    "h_heterogeneity": Label("异质性", "Heterogeneity"),
    "p_heterogeneity": Label(
        "本年各单位之间的差异是否超过二项随机波动？Pearson χ² 与离散度 φ。",
        "Do the units differ by more than binomial noise this year? Pearson χ² and the dispersion φ.",
    ),
    "h_trends": Label("趋势", "Trends"),
    "p_trends": Label(
        "截至本年各年度的 Cochran–Armitage 检验（合并及分单位）：政策符合率（附每年合并比率），"
        "其次为出生中男婴比例。",
        "Cochran–Armitage tests over the years up to this one, pooled and per unit: policy compliance (with "
        "the pooled rate per year), then the male share of births.",
    ),
    "h_diagnostics": Label("指标诊断", "Indicator diagnostics"),
    "p_diagnostics": Label(
        "哪些指标区分了各单位，哪些决定了总分，哪些目标人人达到（或无人达到）。",
        "Which items separate the units, which decide the total, which targets everyone (or no one) meets.",
    ),
    "h_data_quality": Label("数据质量", "Data quality"),
    "p_data_quality": Label(
        "符合率目标上方的聚集，上报与计算比率的比较，计数的尾数分布。",
        "Bunching just above the compliance target, reported against computed rates, terminal digits of "
        "the counts.",
    ),
    "h_sensitivity": Label("排名的敏感性", "Sensitivity of the ranking"),
    "p_sensitivity": Label(
        "本年排名中有多少来自方案设计与随机波动：在 params/sensitivity/<方案>.yaml 的不确定因素下，"
        "各单位 5–95% 的名次区间及获各奖项的概率。",
        "How much of this year's ranking is design and noise: each unit's 5–95% rank interval and its "
        "chances of each award under the uncertainty factors of params/sensitivity/<scheme>.yaml.",
    ),
    "rank": Label("名次", "rank"),
    "line_total": Label("条线", "line"),
    "single_awards_short": Label("单项奖", "single awards"),
    "what": Label("类型", "what"),
    "detail": Label("详情", "detail"),
    "ineligible_short": Label("取消评优", "ineligible"),
    "no_award_year": Label("本年无奖项、警告或一票否决。", "No award, warning or veto this year."),
    "outside_limits": Label("超出 {level}% 控制限：{who}。", "Outside the {level}% limits: {who}."),
    "all_units": Label("（全部单位）", "(all units)"),
    "measure": Label("指标", "measure"),
    "from": Label("起", "from"),
    "to": Label("止", "to"),
    "pooled": Label("合并", "pooled"),
    "male_share": Label("出生中男婴比例", "male share of births"),
    "policy_compliance": Label("政策符合率", "policy compliance"),
    "policy_compliance_pct": Label("出生政策符合率 %", "policy compliance, %"),
    "units_n": Label("单位数", "units"),
    "chi2": Label("χ²", "χ²"),
    "df": Label("自由度", "df"),
    "phi": Label("φ", "φ"),
    "mean_share": Label("平均得分率", "mean share"),
    "full_marks": Label("满分比例", "full marks"),
    "zero": Label("零分比例", "zero"),
    "item_total_r": Label("指标–总分相关 r", "item–total r"),
    "effective_weight": Label("有效权重", "effective weight"),
    "h3_items_note": Label("有说明的指标", "Items with a note"),
    "no_item_note": Label("没有需要说明的指标", "no item has a note"),
    "h3_targets": Label("目标", "Targets"),
    "target_min": Label("目标（最小）", "target (min)"),
    "target_max": Label("目标（最大）", "target (max)"),
    "n_met": Label("达标数", "met"),
    "n_missed": Label("未达标数", "missed"),
    "share_met": Label("达标比例", "share met"),
    "targets_all_mixed": Label(
        "每个目标都有单位达到、也有单位未达到", "every target is met by some units and missed by others"
    ),
    "just_below": Label("目标下方", "just below"),
    "just_above": Label("目标上方", "just above"),
    "h3_consistency": Label("上报与计算的符合率", "Reported against computed compliance"),
    "reported_pct": Label("上报 %", "reported %"),
    "computed_pct": Label("按计数 %", "from counts %"),
    "difference": Label("差值", "difference"),
    "tolerance": Label("容许误差", "tolerance"),
    "rates_agree": Label("所有上报比率与计数一致", "every reported rate agrees with its counts"),
    "h3_digits": Label("计数的尾数", "Terminal digits of the counts"),
    "column": Label("列", "column"),
    "n": Label("n", "n"),
    "most_common": Label("最常见", "most common"),
    "median_rank": Label("名次中位数", "median rank"),
    "effective_weights_err": Label("有效权重：{why}", "effective weights: {why}"),
    "no_sensitivity_spec": Label(
        "params/sensitivity/ 中没有 {scheme} 的敏感性设定：编写一个即可查看这些名次有多稳固（见文档"
        " docs/user/sensitivity.md）。",
        "No sensitivity spec for {scheme} in params/sensitivity/: write one to see how solid these ranks are "
        "(see the documentation, docs/user/sensitivity.md).",
    ),
    "no_sensitivity": Label(
        "本方案无法进行敏感性分析：{why}", "Sensitivity analysis not available for this scheme: {why}"
    ),
    "sensitivity_note": Label(
        "{draws} 次抽样，{n} 个因素（{factors}），随机种子 {seed}；设定 {scheme}.yaml。名次区间跨越多个名次，"
        "说明那里的排名更多取决于设计与随机波动，而非绩效。",
        "{draws} draws of {n} factors ({factors}), seed {seed}; spec {scheme}.yaml. A rank interval that spans "
        "many places means the ranking there is more design and noise than performance.",
    ),
    "ranks_alt": Label("两方案下的名次，{kind}", "ranks under the two schemes, {kind}"),
    "rank_intervals_alt": Label("名次区间，{kind}", "rank intervals, {kind}"),
    # --- comparison
    "units_ranked_both": Label("两方案均排名", "ranked under both"),
    "moved": Label("名次变化的单位", "units whose rank changed"),
    "award_changed": Label("奖项变化", "award changed"),
    "veto_changed": Label("否决变化", "veto changed"),
    "moved_up": Label("上升名次", "moved up by"),
    "main_items": Label(
        "引起变化的指标（贡献变化，百分点）", "items that moved it (change of contribution, pp)"
    ),
    "total_of": Label("总分 {s}", "total {s}", "total {s}"),
    "rank_of_scheme": Label("名次 {s}", "rank {s}", "rank {s}"),
    "h_agreement": Label("排名一致性", "Rank agreement"),
    "p_agreement": Label(
        "本年两方案对单位排序的一致程度（按单位类型）：两方案均排名单位的名次相关，变动的单位数及幅度。",
        "How much the two schemes agree on the order of the units this year (per kind of unit): rank "
        "correlations over the units ranked under both, how many moved and how far.",
    ),
    "h_movers": Label("谁变动了，为什么", "Who moves, and why"),
    "p_movers": Label(
        "两方案下的名次；每个单位贡献变化最大的指标（assesskit.sensitivity.compare_schemes）。",
        "Ranks under both schemes; for each unit the items whose contribution to its standing changed most "
        "(assesskit.sensitivity.compare_schemes).",
    ),
}
"""The catalogue: key → :class:`Label` (Chinese, English[, bilingual form])."""


def check_lang(lang: str | None) -> str:
    """The language to use: ``lang`` checked, or :data:`DEFAULT_LANG` for None.

    Raises
    ------
    ValueError
        For anything but ``zh``, ``en``, ``bilingual`` (or None).
    """
    if lang is None:
        return DEFAULT_LANG
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def t(key: str, lang: str | None = None, /, **fields: object) -> str:
    """The label ``key`` of :data:`LABELS` in ``lang``, its fields filled in.

    Examples
    --------
    >>> t("total", "zh"), t("total", "en"), t("total")
    ('总分', 'total', '总分 total')
    >>> t("points"), t("points", "zh")
    ('points', '得分')
    >>> t("rank_of", "zh", rank=3, n=10)
    '第 3 名，共 10 个'
    """
    lab = LABELS[key]
    lang = check_lang(lang)
    if lang == "zh":
        text = lab.zh
    elif lang == "en":
        text = lab.en
    else:
        text = lab.bilingual if lab.bilingual is not None else lab.en
    return text.format(**fields) if fields else text


def pick(zh: str | None, en: str | None, lang: str | None = None) -> str:
    """A name that is data (a scheme's ``label`` and ``label_en``) in ``lang``.

    ``en`` gives the English name, or the Chinese one when there is none; ``zh`` and
    ``bilingual`` give the Chinese name (the scheme's own), or the English one when there
    is none. Names are never doubled: a bilingual page shows the scheme's names as written.
    """
    lang = check_lang(lang)
    if lang == "en":
        return en or zh or ""
    return zh or en or ""
