"""Lines of text for a terminal or a pipe, with a little colour on a terminal — without rich.

What ``dpsheets check`` prints is lines of text with a few coloured words; rich (tables, progress bars)
takes longer to import than the whole check of a typical workbook, so the commands print through
:class:`Out` and import rich only for a table or a progress bar. Text is always literal (a name like
``宏达[/b]机械`` or ``:warning:`` prints as written) and never wrapped or cut. Control characters in it
are shown as ``\\x1B`` (as in the highlighted copy), so a cell's text cannot move the cursor or
recolour the user's terminal.

Colour is used when the stream is a terminal, unless ``NO_COLOR`` is set or ``TERM`` is ``dumb``;
``FORCE_COLOR`` forces it (the conventions rich and most tools follow).
"""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from dpsheets.workbook.normalize import CONTROL_CHARS, visible

Part = str | tuple[str, str]  # plain text, or (style, text)

# SGR codes of the styles the commands use (what rich writes for them)
_SGR = {"bold": "1", "dim": "2", "underline": "4", "red": "31", "green": "32", "yellow": "33", "magenta": "35",
        "cyan": "36"}
# what a terminal must not receive raw: what a workbook cannot store, and CR, DEL and the C1 controls
_UNSAFE = re.compile(f"{CONTROL_CHARS.pattern}|[\\r\\x7f-\\x9f]")


def _sgr(style: str) -> str:
    return ";".join(_SGR[word] for word in style.split())


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _wants_colour(stream: TextIO) -> bool:
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") in ("dumb", "unknown"):
        return False
    return is_terminal(stream) and _ansi_ready(stream)


def _ansi_ready(stream: TextIO) -> bool:
    """Whether the terminal interprets ANSI colour codes (Windows 10 and later once asked to)."""
    if sys.platform == "win32":  # pragma: no cover - only on Windows
        try:
            import ctypes
            import msvcrt

            kernel32 = ctypes.windll.kernel32
            handle = msvcrt.get_osfhandle(stream.fileno())
            mode = ctypes.c_uint32()
            if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
                return False
            virtual_terminal = 0x0004  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
            return bool(mode.value & virtual_terminal or kernel32.SetConsoleMode(handle, mode.value | virtual_terminal))
        except (AttributeError, OSError, ValueError):
            return False
    return True


class Out:
    """Writes lines to *stream* (default: the current stdout, or stderr), coloured when it is a terminal.

    ``out.print("共 ", ("green", "3"), " 个")``: each part is text, or (style, text) with a style of
    words from ``bold dim underline red green yellow magenta cyan``.
    """

    def __init__(self, stream: TextIO | None = None, *, stderr: bool = False, colour: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr if stderr else sys.stdout
        self.is_terminal = is_terminal(self.stream)
        self.colour = _wants_colour(self.stream) if colour is None else colour

    def text(self, *parts: Part) -> str:
        """The line *parts* make (without its newline), as it will be written."""
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(visible(part, _UNSAFE))
            else:
                style, text = part
                text = visible(text, _UNSAFE)
                out.append(f"\x1b[{_sgr(style)}m{text}\x1b[0m" if self.colour and text else text)
        return "".join(out)

    def print(self, *parts: Part) -> None:
        line = self.text(*parts) + "\n"
        try:
            self.stream.write(line)
        except UnicodeEncodeError:  # a console or pipe in a narrow code page: ✓ and ✗ become '?'
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            self.stream.write(line.encode(encoding, "replace").decode(encoding))
        self.stream.flush()
