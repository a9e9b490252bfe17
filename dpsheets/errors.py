"""The one project exception: a condition that stops a file (or a command) entirely.

Everything that is merely wrong *inside* a workbook is a :class:`~dpsheets.rules.problems.Problem`.
A ``DpsheetsError`` carries a stable code and a Chinese message for the user; the CLI
prints the message and exits with :attr:`exit_code`.
"""

from __future__ import annotations


class DpsheetsError(Exception):
    """A fatal condition, with a Chinese message that names the file and the fix."""

    def __init__(self, code: str, message: str, *, path: str | None = None, exit_code: int = 2) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.path}：{self.message}" if self.path else self.message
