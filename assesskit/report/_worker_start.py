"""What a local cluster's fork server imports once, so that each worker forked from it has it
(see :mod:`assesskit.report.forkserver`).

Nothing here runs a page or starts a kernel; importing it only loads the modules a worker
uses (and skips the IRI grammar first, as a worker of this run would:
``assesskit.report.cluster._skip_iri_grammar``).
"""

from __future__ import annotations

from . import cluster

cluster._skip_iri_grammar()  # before anything imports nbformat (and so jsonschema)

import jupyter_client  # noqa: E402, F401
import nbclient  # noqa: E402, F401
import nbconvert  # noqa: E402, F401
import nbformat  # noqa: E402, F401
import papermill  # noqa: E402, F401

from . import engine, execute, html, job, kernel, provenance  # noqa: E402, F401
