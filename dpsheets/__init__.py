"""dpsheets: Henan's dual prevention system (双重预防体系) for small and micro enterprises, on Excel."""

from __future__ import annotations

__version__ = "0.1.0"

from dpsheets.errors import DpsheetsError  # noqa: E402
from dpsheets.pipeline import FileResult, check, pipeline  # noqa: E402
from dpsheets.rules.problems import CATALOGUE, Problem, Report  # noqa: E402

__all__ = ["CATALOGUE", "DpsheetsError", "FileResult", "Problem", "Report", "check", "pipeline", "__version__"]
