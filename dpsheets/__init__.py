"""dpsheets: Henan's dual prevention system (双重预防体系) for small and micro enterprises, on Excel.

The names a user needs: :func:`check` (one workbook: its records and problems), :func:`pipeline`
(the same, writing the highlighted copy and documents), :class:`County` (a county's folder and
archive: ingest, watch, roll-up, summary and report), :class:`Config` and :func:`load_config`.
"""

from __future__ import annotations

__version__ = "0.1.0"

# The public names are imported on first use (PEP 562): `dpsheets check` must not pay for the county,
# the web service or the documents it does not use.
_EXPORTS = {
    "Config": "dpsheets.config", "load_config": "dpsheets.config", "County": "dpsheets.county.county",
    "DpsheetsError": "dpsheets.errors", "FileResult": "dpsheets.pipeline", "check": "dpsheets.pipeline",
    "pipeline": "dpsheets.pipeline", "CATALOGUE": "dpsheets.rules.problems", "Problem": "dpsheets.rules.problems",
    "Report": "dpsheets.rules.problems",
}

__all__ = ["CATALOGUE", "Config", "County", "DpsheetsError", "FileResult", "Problem", "Report", "check", "load_config",
           "pipeline", "__version__"]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dpsheets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
