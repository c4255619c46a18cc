"""Analyses of scored results that belong to no other family (``stats``, ``sensitivity``).

:mod:`assesskit.analyses.composite` — composite indices: node scores, leaving a level out,
α of a group, uncertainty, the composite counterpart of a point scheme.
"""
