"""dpsheets: Henan's dual prevention system (双重预防体系) for small and micro enterprises, on Excel.

The names a user needs: :func:`check` (one workbook: its records and problems), :func:`pipeline`
(the same, writing the highlighted copy and documents), :class:`County` (a county's folder and
archive: ingest, watch, roll-up, summary and report), :class:`Config` and :func:`load_config`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from dpsheets.config import Config, load_config  # noqa: E402
from dpsheets.county.county import County  # noqa: E402
from dpsheets.errors import DpsheetsError  # noqa: E402
from dpsheets.pipeline import FileResult, check, pipeline  # noqa: E402
from dpsheets.rules.problems import CATALOGUE, Problem, Report  # noqa: E402

__all__ = ["CATALOGUE", "Config", "County", "DpsheetsError", "FileResult", "Problem", "Report", "check", "load_config",
           "pipeline", "__version__"]
