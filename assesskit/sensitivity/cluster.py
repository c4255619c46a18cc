"""Sensitivity draws on a Dask cluster: the chunks of draws as Dask tasks.

The local engine (:mod:`.analysis`) scores the draws chunk by chunk; with a
:class:`distributed.Client` each chunk is one task instead. The baseline and the resolved
factors are scattered to every worker once (``broadcast=True``); a task gets its chunk's
uniform numbers and draw ids, builds the chunk's :class:`~.engine.Perturbation` and calls
the kernel exactly as the local loop does, and returns the chunk's
:class:`~assesskit.kernel.Outcome`. The client takes the outcomes in draw order, so every
summary is computed on the client as it is locally: the results are the same bit for bit
(realisations are keyed by seed, factor and block, never by the chunk or the worker).

Nothing here imports Dask at module level: the local path never loads it.

    from distributed import Client
    sim = sa.simulate(base, spec, draws=10_000, client=Client("tcp://scheduler:8786"))

The command line: ``assesskit sensitivity ... --scheduler tcp://scheduler:8786``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from ..kernel import Outcome
from .engine import Baseline, evaluate
from .sampling import _reuses_blocks, perturbation, realisation_ids

RETRIES = 2
"""Times a chunk is re-run on another worker when its worker dies."""

_CLIENT: ContextVar[Any] = ContextVar("assesskit_sensitivity_client", default=None)

# realisation blocks kept on a worker for the chunks of one run (data noise cycles through
# its realisations: later chunks reuse them, as the local loop's cache does)
_WORKER_CACHE: dict[str, dict] = {}


@contextmanager
def use_client(client) -> Iterator[None]:
    """Run the sensitivity draws inside the ``with`` block on ``client`` (a
    :class:`distributed.Client`) when no ``client=`` is passed: how the command line sends
    :func:`assesskit.pipeline.analyse_files` to a cluster."""
    token = _CLIENT.set(client)
    try:
        yield
    finally:
        _CLIENT.reset(token)


def current_client():
    """The client set by :func:`use_client` (None: draws run in this process)."""
    return _CLIENT.get()


def evaluate_chunk(
    base: Baseline, factors: list, u: np.ndarray, ids, seed: int, run: str, keep: bool = True
) -> Outcome:
    """One chunk of draws, as the local loop scores it (runs on a worker).

    Parameters
    ----------
    base, factors
        The scattered baseline and resolved factors (:func:`.sampling.resolve`).
    u : (d, F) float
        The chunk's uniform numbers.
    ids : (d,) int or None
        The chunk's draw indices (Monte Carlo), None for a Sobol design.
    seed : int
    run : str
        The run's token: the worker keeps realisation blocks for the chunks of this run.
    keep : bool
        Keep realisation blocks for later chunks (False when no block is read twice).
    """
    if run not in _WORKER_CACHE:
        _WORKER_CACHE.clear()  # one run at a time per worker: the previous run's blocks go
        _WORKER_CACHE[run] = {}
    rid = realisation_ids(factors, u, ids)
    out = evaluate(base, perturbation(base, factors, u, rid, seed, _WORKER_CACHE[run] if keep else None))
    return out if out.detail is None else dataclasses.replace(out, detail=None)


def run_chunks(
    client,
    base: Baseline,
    factors: list,
    u: np.ndarray,
    draw_ids: np.ndarray | None,
    seed: int,
    chunk: int,
    collect: Callable[[int, int, Outcome], None],
    on_chunk: Callable[[int, int], None] | None = None,
) -> None:
    """Score the draws ``u`` in chunks of ``chunk`` as Dask tasks on ``client`` and hand
    each chunk's outcome to ``collect(start, stop, outcome)`` in draw order.

    A chunk whose worker dies is re-run elsewhere (:data:`RETRIES`); on an error or an
    interrupt the chunks not yet run are cancelled and the error is raised.
    """
    from distributed import as_completed

    keep = _reuses_blocks(factors, draw_ids, chunk)
    total = u.shape[0]
    spans = [(s, min(s + chunk, total)) for s in range(0, total, chunk)]
    run = uuid.uuid4().hex
    base_f, factors_f = client.scatter([base, factors], broadcast=True, hash=False)
    futures = [
        client.submit(
            evaluate_chunk,
            base_f,
            factors_f,
            u[a:b],
            None if draw_ids is None else draw_ids[a:b],
            seed,
            run,
            keep,
            key=f"assesskit-draws-{run}-{i}",
            retries=RETRIES,
            pure=False,
        )
        for i, (a, b) in enumerate(spans)
    ]
    position = {f.key: i for i, f in enumerate(futures)}
    ready: dict[int, Outcome] = {}
    nxt = 0
    try:
        for fut in as_completed(futures):
            ready[position[fut.key]] = fut.result()  # raises the task's error here
            fut.release()
            while nxt in ready:  # in draw order: the summaries add up as they do locally
                a, b = spans[nxt]
                collect(a, b, ready.pop(nxt))
                nxt += 1
                if on_chunk is not None:
                    on_chunk(b, total)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        client.cancel([base_f, factors_f])
