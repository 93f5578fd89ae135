"""Behaviour annotations exported by BORIS, as per-frame labels.

`BORIS <https://www.boris.unito.it>`_ (Behavioral Observation Research
Interactive Software) codes behaviours on videos as *state* events (with a
start and a stop) and *point* events (an instant). Its plain-text exports
(CSV or TSV) are read here, in three layouts, told apart by their header
row:

* **aggregated events** (Observations > Export events > Aggregated events):
  one row per event, with the columns ``Behavior``, ``Behavior type``
  (``STATE`` or ``POINT``), ``Start (s)`` and ``Stop (s)``;
* **tabular events** (Observations > Export events > Tabular events): one
  row per start, stop or point, with the columns ``Behavior``, ``Time`` and
  the status ``START``, ``STOP`` or ``POINT`` in ``Behavior type`` (BORIS 8)
  or ``Status`` (earlier versions);
* **binary table** (Analysis > Behavior binary table): one row per time step,
  a ``time`` column, then one column per behaviour, 1 (or a count of point
  events) where it happens and 0 elsewhere.

Both event tables may hold several observations (``Observation id``) and
subjects (``Subject``); choose them with ``observation`` and ``subject``.
Rows before the header (older exports start with a few lines about the
observation) are skipped. :func:`read_boris_intervals` returns the events
in seconds; :func:`read_boris` the label of every video frame, for a frame
rate and a number of frames, ready for
:class:`~sklearn_dpads.ProgramSynthesisClassifier` and
:mod:`sklearn_dpads.bouts`. The module needs numpy only (and the standard
library's :mod:`csv`).
"""

from __future__ import annotations

import csv
import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_boris", "read_boris_intervals"]

_NOT_TEXT = (".xlsx", ".xls", ".ods", ".pkl", ".rds", ".html", ".sql", ".sds", ".tbs")
_MISSING = ("", "na", "nan")


# ------------------------------------------------------------------ tables
def _read_rows(path: Path, sep: str | None) -> list[list[str]]:
    if path.suffix.lower() in _NOT_TEXT:
        raise ValueError(
            f"{path.name!r} is not a plain-text table; export the events from BORIS "
            "as CSV or TSV."
        )
    if not path.is_file():
        raise FileNotFoundError(f"No BORIS export at {str(path)!r}.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            f"{path.name!r} is not a UTF-8 text file; export the events from BORIS "
            "as CSV or TSV."
        ) from None
    if sep is None:
        suffix = path.suffix.lower()
        if suffix == ".tsv":
            sep = "\t"
        elif suffix == ".csv":
            sep = ","
        else:
            sep = "\t" if text.count("\t") > text.count(",") else ","
    elif not isinstance(sep, str) or len(sep) != 1:
        raise ValueError(f"sep must be one character or None, got {sep!r}.")
    return [
        [c.strip() for c in row] for row in csv.reader(text.splitlines(), delimiter=sep)
    ]


def _header(rows: list[list[str]], name: str) -> tuple[int, str, dict[str, int]]:
    """``(row index, layout, {lower-case column name: index})`` of the header."""
    for r, row in enumerate(rows):
        cols = {c.lower(): j for j, c in reversed(list(enumerate(row))) if c}
        if {"behavior", "start (s)", "stop (s)"} <= cols.keys():
            return r, "aggregated", cols
        if {"behavior", "time"} <= cols.keys() and (
            "behavior type" in cols or "status" in cols
        ):
            return r, "events", cols
        if row and row[0].lower() == "time" and len(row) > 1 and "behavior" not in cols:
            return r, "binary", cols
    raise ValueError(
        f"{name!r} is not a BORIS export: no header row has the columns Behavior, "
        "Start (s) and Stop (s) (aggregated events), Behavior, Time and Behavior "
        "type or Status (tabular events), or time and one column per behaviour "
        "(binary table)."
    )


def _number(text: str, what: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"Line {line}: {what} {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise ValueError(f"Line {line}: {what} {text!r} is not a finite number.")
    return value


def _select(
    records: list[dict[str, Any]], key: str, value: Any, name: str, what: str
) -> list[dict[str, Any]]:
    """The records whose ``key`` is ``value``; with None, check that there is one."""
    found = sorted({r[key] for r in records if r[key] is not None})
    if value is None:
        if key == "observation" and len(found) > 1:
            raise ValueError(
                f"{name!r} holds {len(found)} observations {found}; choose one with "
                "observation=."
            )
        return records
    if value not in found:
        raise ValueError(f"{name!r} has no {what} {value!r}; it has {found}.")
    return [r for r in records if r[key] == value]


def _cell(row: list[str], cols: dict[str, int], column: str) -> str | None:
    j = cols.get(column)
    return row[j] if j is not None and j < len(row) else None


def _aggregated(numbered, cols, name) -> list[dict[str, Any]]:
    out = []
    for n, row in numbered:
        behavior = _cell(row, cols, "behavior")
        if not behavior:
            raise ValueError(f"Line {n} of {name!r} has no Behavior.")
        kind = (_cell(row, cols, "behavior type") or "STATE").upper()
        if kind not in ("STATE", "POINT"):
            raise ValueError(
                f"Line {n} of {name!r}: Behavior type {kind!r} is not STATE or POINT."
            )
        start = _number(_cell(row, cols, "start (s)") or "", "Start (s)", n)
        stop_text = _cell(row, cols, "stop (s)") or ""
        if kind == "POINT":
            stop = start
        elif stop_text.lower() in _MISSING:
            raise ValueError(
                f"Line {n} of {name!r}: the state event {behavior!r} has no Stop (s) "
                "(an unpaired start; fix it in BORIS)."
            )
        else:
            stop = _number(stop_text, "Stop (s)", n)
        if stop < start:
            raise ValueError(
                f"Line {n} of {name!r}: {behavior!r} stops at {stop} s, before it "
                f"starts ({start} s)."
            )
        out.append(
            {
                "behavior": behavior,
                "start": start,
                "stop": stop,
                "subject": _cell(row, cols, "subject"),
                "observation": _cell(row, cols, "observation id"),
            }
        )
    return out


def _events(numbered, cols, name) -> list[dict[str, Any]]:
    status_col = "behavior type" if "behavior type" in cols else "status"
    marks = []
    for n, row in numbered:
        behavior = _cell(row, cols, "behavior")
        if not behavior:
            raise ValueError(f"Line {n} of {name!r} has no Behavior.")
        status = (_cell(row, cols, status_col) or "").upper()
        if status not in ("START", "STOP", "POINT"):
            raise ValueError(
                f"Line {n} of {name!r}: the status {status!r} is not START, STOP or "
                "POINT."
            )
        marks.append(
            {
                "behavior": behavior,
                "time": _number(_cell(row, cols, "time") or "", "Time", n),
                "status": status,
                "subject": _cell(row, cols, "subject"),
                "observation": _cell(row, cols, "observation id"),
                "line": n,
            }
        )
    out, open_ = [], {}
    for m in sorted(marks, key=lambda m: (m["time"], m["line"])):
        key = (m["observation"], m["subject"], m["behavior"])
        record = {k: m[k] for k in ("behavior", "subject", "observation")}
        if m["status"] == "POINT":
            out.append(dict(record, start=m["time"], stop=m["time"]))
        elif m["status"] == "START":
            if key in open_:
                raise ValueError(
                    f"Line {m['line']} of {name!r}: {m['behavior']!r} starts again at "
                    f"{m['time']} s before the start at {open_[key]['time']} s stopped."
                )
            open_[key] = m
        else:
            start = open_.pop(key, None)
            if start is None:
                raise ValueError(
                    f"Line {m['line']} of {name!r}: {m['behavior']!r} stops at "
                    f"{m['time']} s without a start."
                )
            out.append(dict(record, start=start["time"], stop=m["time"]))
    if open_:
        m = min(open_.values(), key=lambda m: m["time"])
        raise ValueError(
            f"Line {m['line']} of {name!r}: {m['behavior']!r} starts at {m['time']} s "
            "and never stops (an unpaired start; fix it in BORIS)."
        )
    return out


def _binary(numbered, header, name) -> list[dict[str, Any]]:
    behaviors = header[1:]
    if not numbered:
        raise ValueError(f"The binary table {name!r} has no rows.")
    width = len(header)
    values = []
    for n, row in numbered:
        if len(row) < width:
            raise ValueError(
                f"Line {n} of {name!r} has {len(row)} cells; the header has {width}."
            )
        values.append(
            [_number(row[0], "time", n)]
            + [_number(row[j], repr(header[j]), n) for j in range(1, width)]
        )
    table = np.asarray(values)
    times = table[:, 0]
    if len(times) < 2:
        raise ValueError(
            f"The binary table {name!r} has one row; its time step needs two or more."
        )
    steps = np.diff(times)
    dt = float(np.median(steps))
    if dt <= 0 or not np.allclose(steps, dt, rtol=1e-3, atol=1e-6):
        raise ValueError(
            f"The times of the binary table {name!r} are not evenly spaced and "
            "increasing."
        )
    out = []
    for j, behavior in enumerate(behaviors, start=1):
        active = table[:, j] != 0
        edges = np.diff(np.r_[0, active.astype(np.int8), 0])
        for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            out.append(
                {
                    "behavior": behavior,
                    "start": float(times[s]),
                    "stop": float(times[e - 1] + dt),
                    "subject": None,
                    "observation": None,
                }
            )
    return out


def _records(
    path: Any, subject: Any, observation: Any, sep: str | None
) -> list[dict[str, Any]]:
    path = Path(path)
    rows = _read_rows(path, sep)
    r, layout, cols = _header(rows, path.name)
    # (line number in the file, row) of the rows after the header, blank ones dropped
    numbered = [
        (n, row) for n, row in enumerate(rows[r + 1 :], start=r + 2) if any(row)
    ]
    if layout == "binary":
        return _binary(numbered, rows[r], path.name)
    parse = _aggregated if layout == "aggregated" else _events
    recs = parse(numbered, cols, path.name)
    recs = _select(recs, "observation", observation, path.name, "observation")
    return _select(recs, "subject", subject, path.name, "subject")


def read_boris_intervals(
    path: str | Path,
    *,
    subject: str | None = None,
    observation: str | None = None,
    sep: str | None = None,
) -> list[tuple[str, float, float]]:
    """Read the events of a BORIS export, in seconds.

    Parameters
    ----------
    path : str or Path
        A BORIS export in CSV or TSV: aggregated events, tabular events or a
        behaviour binary table (see the module's description).
    subject : str or None, default=None
        Keep the events of this subject only (the ``Subject`` column); None
        keeps every subject's. Binary tables hold one subject and ignore it.
    observation : str or None, default=None
        Keep the events of this observation (``Observation id``); None
        needs the file to hold one observation. Binary tables ignore it.
    sep : str or None, default=None
        The column separator; None: a tab for ``.tsv``, a comma for
        ``.csv``, else the more frequent of the two.

    Returns
    -------
    list of tuple of (str, float, float)
        ``(behavior, start, stop)`` of every event, in seconds, sorted by
        start: a state event lasts from ``start`` to ``stop``; a point event
        has ``stop == start``. In a binary table a behaviour lasts from the
        first row where it is not 0 to one time step after the last.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a BORIS export in CSV or TSV (no header row of a
        known layout), a time is not a number, a state event is unpaired or
        stops before it starts, the status of an event is not START, STOP or
        POINT, the file holds several observations and ``observation`` is
        None, ``subject`` or ``observation`` is not in the file, or the times
        of a binary table are not evenly spaced.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_dpads.boris import read_boris_intervals
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text(
    ...     "Subject,Behavior,Behavior type,Start (s),Stop (s)\\n"
    ...     "mouse,sniff,STATE,1.0,2.5\\n"
    ...     "mouse,bite,POINT,3.0,3.0\\n"
    ... )
    >>> read_boris_intervals(path)
    [('sniff', 1.0, 2.5), ('bite', 3.0, 3.0)]
    """
    recs = _records(path, subject, observation, sep)
    return sorted(
        ((r["behavior"], r["start"], r["stop"]) for r in recs),
        key=lambda t: (t[1], t[2], t[0]),
    )


def read_boris(
    path: str | Path,
    *,
    frame_rate: float,
    n_frames: int,
    behaviors: list[str] | None = None,
    background: str = "none",
    subject: str | None = None,
    observation: str | None = None,
    start_time: float = 0.0,
    point_events: str = "frame",
    overlap: str = "error",
    sep: str | None = None,
) -> np.ndarray:
    """Read a BORIS export as the behaviour label of every video frame.

    Frame ``i`` is at time ``start_time + i / frame_rate`` (seconds in the
    export's clock). A state event from ``start`` to ``stop`` labels the
    frames from the one nearest ``start`` up to, not including, the one
    nearest ``stop``, and at least one frame; a point event labels the frame
    nearest its time (``point_events="frame"``) or nothing. Events outside
    the frames are cut off. Frames of no event get ``background``.

    Parameters
    ----------
    path : str or Path
        A BORIS export in CSV or TSV: aggregated events, tabular events or a
        behaviour binary table.
    frame_rate : float
        Frames per second of the video (or of the pose tracks).
    n_frames : int
        Number of frames of the recording (>= 1).
    behaviors : list of str or None, default=None
        The behaviours kept, in order of priority for ``overlap``; others
        are ignored. A behaviour of the list may be absent from the file (a
        recording without that behaviour). None: every behaviour in the
        file, sorted by name.
    background : str, default="none"
        The label of frames of no behaviour; not a name in ``behaviors``.
    subject : str or None, default=None
        Keep the events of this subject only; None keeps every subject's.
    observation : str or None, default=None
        Keep the events of this observation; None needs the file to hold
        one.
    start_time : float, default=0.0
        The time of frame 0 in the export, in seconds (the video time where
        the pose tracks start).
    point_events : {"frame", "ignore"}, default="frame"
        Label the nearest frame of every point event, or skip point events.
    overlap : {"error", "first", "last"}, default="error"
        When two behaviours label one frame: raise, keep the behaviour that
        comes first in ``behaviors``, or the one that comes last.
    sep : str or None, default=None
        The column separator; None guesses it (see
        :func:`read_boris_intervals`).

    Returns
    -------
    ndarray of str of shape (n_frames,)
        The label of every frame: a behaviour name or ``background``. Pass
        one per recording as ``y`` (with ``background=`` in
        :mod:`sklearn_dpads.bouts`).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a parameter is invalid (``frame_rate`` not a positive number,
        ``n_frames`` not an integer >= 1, ``background`` not a string or in
        ``behaviors``, ...), two behaviours overlap with
        ``overlap="error"``, or the file cannot be read (see
        :func:`read_boris_intervals`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_dpads.boris import read_boris
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text(
    ...     "Behavior,Behavior type,Start (s),Stop (s)\\nsniff,STATE,0.2,0.5\\n"
    ... )
    >>> read_boris(path, frame_rate=10, n_frames=7).tolist()
    ['none', 'none', 'sniff', 'sniff', 'sniff', 'none', 'none']
    """
    if (
        not isinstance(frame_rate, numbers.Real)
        or isinstance(frame_rate, bool | np.bool_)
        or not math.isfinite(frame_rate)
        or frame_rate <= 0
    ):
        raise ValueError(f"frame_rate must be a positive number, got {frame_rate!r}.")
    if (
        not isinstance(n_frames, numbers.Integral)
        or isinstance(n_frames, bool | np.bool_)
        or n_frames < 1
    ):
        raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}.")
    if (
        not isinstance(start_time, numbers.Real)
        or isinstance(start_time, bool | np.bool_)
        or not math.isfinite(start_time)
    ):
        raise ValueError(f"start_time must be a finite number, got {start_time!r}.")
    if point_events not in ("frame", "ignore"):
        raise ValueError(
            f"point_events must be 'frame' or 'ignore', got {point_events!r}."
        )
    if overlap not in ("error", "first", "last"):
        raise ValueError(
            f"overlap must be 'error', 'first' or 'last', got {overlap!r}."
        )
    if not isinstance(background, str):
        raise ValueError(
            f"background must be a string (the labels are behaviour names), got "
            f"{background!r}."
        )
    if behaviors is not None:
        if isinstance(behaviors, str) or not all(isinstance(b, str) for b in behaviors):
            raise ValueError(f"behaviors must be a list of strings, got {behaviors!r}.")
        behaviors = list(behaviors)
        if len(set(behaviors)) != len(behaviors):
            raise ValueError(f"behaviors repeats a name: {behaviors!r}.")
        if background in behaviors:
            raise ValueError(
                f"background {background!r} is also in behaviors; choose another "
                "background label."
            )
    intervals = read_boris_intervals(
        path, subject=subject, observation=observation, sep=sep
    )
    found = sorted({b for b, _, _ in intervals})
    order = behaviors if behaviors is not None else found
    if behaviors is None and background in found:
        raise ValueError(
            f"background {background!r} is a behaviour of the file; choose another "
            "background label."
        )
    rank = {b: k for k, b in enumerate(order)}
    owner = np.full(n_frames, -1, dtype=np.int64)  # rank of each frame's behaviour
    spans = []
    for behavior, start, stop in intervals:
        if behavior not in rank or (start == stop and point_events == "ignore"):
            continue
        i0 = int(round((start - start_time) * frame_rate))
        i1 = max(int(round((stop - start_time) * frame_rate)), i0 + 1)
        i0, i1 = max(i0, 0), min(i1, n_frames)
        if i0 < i1:
            spans.append((rank[behavior], i0, i1))
    # "first": the highest priority is written last, so that it wins
    spans.sort(key=lambda s: -s[0] if overlap == "first" else s[0])
    for k, i0, i1 in spans:
        seg = owner[i0:i1]
        clash = (seg >= 0) & (seg != k)
        if overlap == "error" and clash.any():
            j = i0 + int(np.argmax(clash))
            raise ValueError(
                f"{order[int(owner[j])]!r} and {order[k]!r} both label frame {j} "
                f"({start_time + j / frame_rate:.3f} s); pass overlap='first' or "
                "'last' (the order of behaviors decides), or fewer behaviors."
            )
        seg[:] = k
    names = np.asarray([background, *order], dtype=str)
    return names[owner + 1]
