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


class Ranking:
    """One sort of every draw's rows, within groups, by the ranking keys.

    Parameters
    ----------
    group : ndarray of int, shape (n,) or (d, n)
        Group of each row (e.g. year × kind of unit); rows rank only against their group
        in the same draw.
    keys : list of ndarray, each (n,) or (d, n)
        Higher is better; the first key first, the next ones break its ties. NaN ranks
        below every number.

    Notes
    -----
    The sort is shared by every subset ranked with :meth:`better`, :meth:`worse` and
    :meth:`count` (the ranked units, each award tier's candidates, the pool of a bottom
    warning), so a draw is sorted once, not once per subset. Results have the shape of
    the inputs: (n,) for 1-D inputs, else (d, n).
    """

    def __init__(self, group: np.ndarray, keys: list[np.ndarray]):
        group = np.asarray(group)
        shape = np.broadcast_shapes(group.shape, *(np.shape(k) for k in keys))
        self.one_d = len(shape) == 1
        self.shape = (1,) + shape if self.one_d else shape
        d, n = self.shape
        size = d * n
        self.size = size
        if size == 0:
            return
        _u, ginv = np.unique(group, return_inverse=True)
        n_groups = _u.size
        ginv = np.broadcast_to(ginv.reshape(group.shape), self.shape)
        seg = (np.arange(d)[:, None] * n_groups + ginv).ravel()
        neg = [
            np.broadcast_to(-fill_nan(np.asarray(k, dtype=float), -np.inf) + 0.0, self.shape) for k in keys
        ]
        # each draw (row) sorted on its own: the last key first (any order among its ties),
        # then stable sorts by the earlier keys and the group — a lexicographic order
        order = np.argsort(neg[-1], axis=1)
        for k in [*reversed(neg[:-1]), ginv] if n_groups > 1 else reversed(neg[:-1]):
            order = np.take_along_axis(
                order, np.argsort(np.take_along_axis(k, order, axis=1), axis=1, kind="stable"), axis=1
            )
        order = (order + (np.arange(d) * n)[:, None]).ravel()
        neg = [k.ravel() for k in neg]
        s_seg = seg[order]
        new_seg = np.empty(size, dtype=bool)
        new_seg[0] = True
        np.not_equal(s_seg[1:], s_seg[:-1], out=new_seg[1:])
        new_run = new_seg.copy()
        for k in neg:
            s = k[order]
            new_run[1:] |= s[1:] != s[:-1]
        pos = np.arange(size)
        self.order = order
        self.seg_start = np.maximum.accumulate(np.where(new_seg, pos, 0))
        self.run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
        self.seg_end = self._ends(new_seg)
        self.run_end = self._ends(new_run)

    @staticmethod
    def _ends(starts: np.ndarray) -> np.ndarray:
        """For each sorted position, where its run (or segment) ends (exclusive)."""
        size = starts.size
        after = np.empty(size, dtype=bool)
        after[:-1] = starts[1:]
        after[-1] = True
        nxt = np.where(after, np.arange(1, size + 1), size)
        return np.minimum.accumulate(nxt[::-1])[::-1]

    def _counts(self, sub: np.ndarray) -> np.ndarray:
        """Cumulative members of ``sub`` over the sorted order (with a leading 0)."""
        c = np.zeros(self.size + 1, dtype=np.int64)
        s = np.broadcast_to(np.asarray(sub, dtype=bool), self.shape).ravel()[self.order]
        np.cumsum(s, out=c[1:])
        return c

    def _scatter(self, sorted_vals: np.ndarray, sub: np.ndarray | None) -> np.ndarray:
        out = np.empty(self.size)
        out[self.order] = sorted_vals
        out = out.reshape(self.shape)
        if sub is not None:
            out = np.where(np.broadcast_to(sub, self.shape), out, np.nan)
        return out[0] if self.one_d else out

    def _empty(self) -> np.ndarray:
        return np.full(self.shape[1:] if self.one_d else self.shape, np.nan)

    def better(self, sub: np.ndarray) -> np.ndarray:
        """Competition rank among ``sub``: 1 + members of ``sub`` strictly better (NaN outside)."""
        if self.size == 0:
            return self._empty()
        c = self._counts(sub)
        return self._scatter((c[self.run_start] - c[self.seg_start] + 1).astype(float), sub)

    def worse(self, sub: np.ndarray) -> np.ndarray:
        """Rank from the bottom among ``sub``: 1 + members of ``sub`` strictly worse."""
        if self.size == 0:
            return self._empty()
        c = self._counts(sub)
        return self._scatter((c[self.seg_end] - c[self.run_end] + 1).astype(float), sub)

    def count(self, sub: np.ndarray) -> np.ndarray:
        """How many members of ``sub`` are in each row's group (in its draw)."""
        if self.size == 0:
            return np.zeros(self.shape[1:] if self.one_d else self.shape)
        c = self._counts(sub)
        return self._scatter((c[self.seg_end] - c[self.seg_start]).astype(float), None)


def rank_within(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Competition ranks within groups, over an optional leading draws axis.

    Parameters
    ----------
    group : ndarray of int, shape (n,) or (d, n)
        The groups (e.g. year × kind of unit; a scheme's peers); draws never mix.
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
    return Ranking(group, keys).better(mask)
