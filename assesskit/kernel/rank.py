"""The one ranking implementation: competition ranks within groups, over a draws axis.

Every rank in the package — the summary's ranks and award tiers, the sensitivity
engine's draws, composite analyses — comes from :class:`Ranking`: one sort of all
(draw, row) cells by (draw, group, keys), then the competition rank of any subset of the
cells from a cumulative count over the sorted order. Ties on every key share the best
rank (1, 2, 2, 4); cells outside the subset get NaN. No loop over groups, rows or draws.

numpy has no grouped rank over a leading axis (``scipy.stats.rankdata`` ranks one axis
without groups or several keys), hence this small module.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd


def fill_nan(a: np.ndarray, fill: float) -> np.ndarray:
    """``a`` with NaN replaced (cheaper than ``np.nan_to_num``, which also checks ±inf)."""
    return np.where(np.isnan(a), fill, a)


def group_codes(*cols: pd.Series | np.ndarray) -> np.ndarray:
    """One integer code per distinct combination of the columns (vectorised)."""
    code = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:
        k, uniq = pd.factorize(np.asarray(c), use_na_sentinel=False)
        code = code * len(uniq) + k
    return code


def _dense_codes(group: np.ndarray) -> tuple[np.ndarray, int]:
    """Group codes as small non-negative integers (16-bit when they fit: numpy's stable sort
    of 16-bit integers is a radix sort) and their number."""
    if group.size and np.issubdtype(group.dtype, np.integer) and group.min() >= 0 and group.max() < 2**15:
        codes, n_groups = group, int(group.max()) + 1  # already codes (e.g. from group_codes)
    else:
        _u, codes = np.unique(group, return_inverse=True)
        n_groups = max(_u.size, 1)
    return codes.astype(np.int16 if n_groups < 2**15 else np.int64), n_groups


class Ranking:
    """One sort of every draw's rows, within groups, by the ranking keys.

    Parameters
    ----------
    group : ndarray of int, shape (n,)
        Group of each row (e.g. year × kind of unit); rows rank only against their group
        in the same draw.
    keys : list of ndarray, each (n,) or (d, n)
        Higher is better; the first key first, the next ones break its ties. NaN ranks
        below every number.
    within : ndarray of bool, shape (n,) or (d, n), optional
        The rows that may be ranked at all (every subset ranked later lies inside it):
        only the columns where some draw has such a row are sorted.

    Notes
    -----
    The sort is shared by every subset ranked with :meth:`better` and :meth:`worse` (the
    ranked units, each award tier's candidates, the pool of a bottom warning), so a draw
    is sorted once, not once per subset. Results have the shape of the inputs: (n,) for
    1-D inputs, else (d, n).
    """

    def __init__(self, group: np.ndarray, keys: list[np.ndarray], within: np.ndarray | None = None):
        group = np.asarray(group)
        shape = np.broadcast_shapes(group.shape, *(np.shape(k) for k in keys))
        self.one_d = len(shape) == 1
        self.shape = (1,) + shape if self.one_d else shape
        d, n = self.shape
        self.codes, self.n_groups = _dense_codes(group)
        self.cols = None  # the sorted columns (None: every one)
        if within is not None:
            w = np.broadcast_to(within, self.shape).any(axis=0)
            if not w.all():
                self.cols = np.flatnonzero(w)
        cols = self.cols
        m = n if cols is None else cols.size
        self.size = d * m
        if self.size == 0:
            return
        ginv = np.broadcast_to(self.codes if cols is None else self.codes[cols], (d, m))
        neg = []
        for k in keys:
            k = np.broadcast_to(np.asarray(k, dtype=float), self.shape)
            k = k if cols is None else k[:, cols]
            neg.append(-fill_nan(k, -np.inf) + 0.0)  # + 0.0: no −0.0
        # each draw (row) sorted on its own: the last key first (any order among its ties),
        # then stable sorts by the earlier keys and the group — a lexicographic order
        order = np.argsort(neg[-1], axis=1)
        for k in [*reversed(neg[:-1]), ginv] if self.n_groups > 1 else reversed(neg[:-1]):
            by = np.argsort(np.take_along_axis(k, order, axis=1), axis=1, kind="stable")
            order = np.take_along_axis(order, by, axis=1)
        self.order = (order + (np.arange(d) * m)[:, None]).ravel()
        s_seg = (np.arange(d)[:, None] * self.n_groups + ginv).ravel()[self.order]
        self.new_seg = np.empty(self.size, dtype=bool)
        self.new_seg[0] = True
        np.not_equal(s_seg[1:], s_seg[:-1], out=self.new_seg[1:])
        self.new_run = self.new_seg.copy()
        for k in neg:
            sk = k.ravel()[self.order]
            self.new_run[1:] |= sk[1:] != sk[:-1]
        pos = np.arange(self.size)
        self.seg_start = np.maximum.accumulate(np.where(self.new_seg, pos, 0))
        self.run_start = np.maximum.accumulate(np.where(self.new_run, pos, 0))

    @cached_property
    def seg_end(self) -> np.ndarray:
        return self._ends(self.new_seg)

    @cached_property
    def run_end(self) -> np.ndarray:
        return self._ends(self.new_run)

    @staticmethod
    def _ends(starts: np.ndarray) -> np.ndarray:
        """For each sorted position, where its run (or segment) ends (exclusive)."""
        size = starts.size
        after = np.empty(size, dtype=bool)
        after[:-1] = starts[1:]
        after[-1] = True
        nxt = np.where(after, np.arange(1, size + 1), size)
        return np.minimum.accumulate(nxt[::-1])[::-1]

    def _sub(self, sub: np.ndarray) -> np.ndarray:
        sub = np.broadcast_to(np.asarray(sub, dtype=bool), self.shape)
        return sub if self.cols is None else sub[:, self.cols]

    def _counts(self, sub: np.ndarray) -> np.ndarray:
        """Cumulative members of ``sub`` over the sorted order (with a leading 0)."""
        c = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(sub.ravel()[self.order], out=c[1:])
        return c

    def _rank(self, sub: np.ndarray, worse: bool) -> np.ndarray:
        def members(c: np.ndarray) -> np.ndarray:
            if worse:  # 1 + members after the run
                return c[self.seg_end] - c[self.run_end] + 1
            return c[self.run_start] - c[self.seg_start] + 1  # 1 + members before the run

        return self._scatter(sub, members)

    def _scatter(self, sub: np.ndarray, of_counts) -> np.ndarray:
        """``of_counts(cumulative members of sub)`` at every sorted position, back in the
        inputs' shape; NaN outside ``sub``."""
        out = np.full(self.shape, np.nan)
        if self.size:
            s = self._sub(sub)
            tmp = np.empty(self.size)
            tmp[self.order] = of_counts(self._counts(s))
            tmp = np.where(s, tmp.reshape(s.shape), np.nan)
            if self.cols is None:
                out = tmp
            else:
                out[:, self.cols] = tmp
        return out[0] if self.one_d else out

    def better(self, sub: np.ndarray) -> np.ndarray:
        """Competition rank among ``sub``: 1 + members of ``sub`` strictly better (NaN outside)."""
        return self._rank(sub, False)

    def worse(self, sub: np.ndarray) -> np.ndarray:
        """Rank from the bottom among ``sub``: 1 + members of ``sub`` strictly worse."""
        return self._rank(sub, True)

    def tied(self, sub: np.ndarray) -> np.ndarray:
        """How many members of ``sub`` tie with each member on every key, itself included
        (NaN outside ``sub``): a member ranked ``r`` with ``g`` tied spans places ``r … r+g−1``."""
        return self._scatter(sub, lambda c: c[self.run_end] - c[self.run_start])

    def count(self, sub: np.ndarray) -> np.ndarray:
        """How many members of ``sub`` are in each row's group (in its draw), for every row."""
        return self.group_sum(np.asarray(sub, dtype=bool))

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        """The sum of ``values`` over each row's group (in its draw), for every row."""
        d, n = self.shape
        seg = (np.arange(d)[:, None] * self.n_groups + self.codes).ravel()
        w = np.broadcast_to(np.asarray(values, dtype=float), self.shape).ravel()
        per = np.bincount(seg, weights=w, minlength=d * self.n_groups)
        out = per[seg].reshape(self.shape)
        return out[0] if self.one_d else out


def rank_within(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Competition ranks within groups, over an optional leading draws axis.

    Parameters
    ----------
    group : ndarray of int, shape (n,)
        The groups (e.g. year × kind of unit; a scheme's peers), shared by every draw;
        draws never mix.
    keys : list of ndarray, each (n,) or (d, n)
        Higher is better, the first key first; NaN ranks below every number.
        For "lower is better" pass ``-key``.
    mask : ndarray of bool, shape (n,) or (d, n)
        The rows to rank; the others get NaN.

    Returns
    -------
    ndarray of float, shape (n,) or (d, n)
        Ties on every key share the best rank (1, 2, 2, 4).

    Examples
    --------
    >>> rank_within(np.zeros(4, int), [np.array([3.0, 5, 5, 1])], np.ones(4, bool))
    array([3., 1., 1., 4.])
    """
    keys = list(keys)
    shape = np.broadcast_shapes(np.shape(group), np.shape(mask), *(np.shape(k) for k in keys))
    if len(shape) == 2 and np.ndim(mask) == 1:
        mask = np.broadcast_to(mask, shape)
    if len(shape) == 2 and not keys:
        keys = [np.zeros(shape)]
    if len(shape) == 2:
        keys[0] = np.broadcast_to(keys[0], shape)
    return Ranking(group, keys, within=mask).better(mask)
