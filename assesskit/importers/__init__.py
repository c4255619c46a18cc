"""Readers of outside formats that become assesskit schemes and panels (COINr, ...)."""

from .coinr import IMETA_COLUMNS, import_coinr

__all__ = ["IMETA_COLUMNS", "import_coinr"]
