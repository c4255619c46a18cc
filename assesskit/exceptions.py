"""One error root for assesskit, with specific subclasses.

Every error a user can cause carries a list of *problems* — each naming the file, the
row or item and what was expected — so that one message reports everything at once.
All classes are picklable (they are rebuilt from their constructor arguments).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Parameters
    ----------
    where : str
        The file, and inside it the row, column, item or path (``line › section › item``).
    message : str
        What is wrong and what was expected.
    severity : {"error", "warning"}
        Errors stop the run; warnings are reported and carried into outputs.
    """

    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class AssessKitError(Exception):
    """Root of every error raised by assesskit."""

    def __init__(self, message: str = "", problems: list[Problem] | tuple[Problem, ...] = ()):
        self.problems = tuple(problems)
        self.message = message
        super().__init__(message, self.problems)

    def __reduce__(self):
        return (type(self), (self.message, self.problems))

    def __str__(self) -> str:
        lines = [self.message] if self.message else []
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class SchemeError(AssessKitError):
    """A scheme file is malformed, inconsistent or refers to something that does not exist."""


class DataError(AssessKitError):
    """An input table (panel, unit registry, targets, grades) is unreadable or invalid."""


class ReportError(AssessKitError):
    """Building or writing a report failed."""


class OutputError(ReportError):
    """Writing outputs failed (disk full, permissions, a path that is a file …).

    A subclass of :class:`ReportError` because output writing raised that before.
    """


class AssessKitWarning(UserWarning):
    """Something questionable in the inputs that does not stop the run."""
