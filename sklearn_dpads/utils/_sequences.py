"""Low-level checks of sequences: shapes of a list, trailing NaN padding, float32 range.

:mod:`sklearn_dpads.utils.validation` builds ``check_X`` on them and exports
them. :func:`delay_sequences` and :func:`delay_labels` give a per-frame
program ``future_frames`` frames of look-ahead: every sequence is extended by
that many copies of its last frame and its labels move that many frames later,
so that the output at frame ``t + L`` (which has read up to ``t + L``) is the
decision about frame ``t``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "FLOAT32_MAX",
    "check_float32_range",
    "check_future_frames",
    "delay_labels",
    "delay_sequences",
    "is_ragged",
    "sequence_shapes",
    "trailing_padding",
]

#: Largest finite float32 value; larger float64 values overflow to infinity.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def sequence_shapes(X: Any, input_name: str = "X") -> list[tuple[int, ...]] | None:
    """Return the shapes of the elements of a list of 2-D sequences, else None.

    A list or tuple is taken as a list of sequences when at least one of its
    elements is 2-D; then every element must be 2-D.

    Parameters
    ----------
    X : object
        Candidate list of ``(n_timesteps_i, n_features)`` arrays.
    input_name : str, default="X"
        Name of the input in error messages.

    Returns
    -------
    shapes : list of tuple of int or None
        The shape of every element, or None when ``X`` is not a non-empty
        list/tuple with a 2-D element.

    Raises
    ------
    ValueError
        If some elements are 2-D and another one is not (its index and shape
        are named), or an element cannot be converted to an array.
    """
    if not isinstance(X, list | tuple) or len(X) == 0:
        return None
    shapes: list[tuple[int, ...] | None] = []
    for s in X:
        try:
            shapes.append(tuple(int(d) for d in np.shape(s)))
        except (ValueError, TypeError):  # inhomogeneous nested lists
            shapes.append(None)
    first_2d = next(
        (i for i, s in enumerate(shapes) if s is not None and len(s) == 2), None
    )
    if first_2d is None:
        return None
    for i, shp in enumerate(shapes):
        if shp is None:
            raise ValueError(
                f"{input_name} is a list of sequences, but sequence {i} could not be "
                "converted to an array (its nested lists have different lengths); "
                "every sequence must be a 2-D array of shape (n_timesteps, n_features)."
            )
        if len(shp) != 2:
            raise ValueError(
                f"{input_name} is a list of sequences, but sequence {i} has {len(shp)} "
                f"dimension(s) (shape {shp}); every sequence must be a 2-D array of "
                f"shape (n_timesteps, n_features), like sequence {first_2d} (shape "
                f"{shapes[first_2d]})."
            )
    return shapes  # type: ignore[return-value]


def is_ragged(X: Any) -> bool:
    """Whether ``X`` is a list/tuple of 2-D sequences of different shapes.

    Parameters
    ----------
    X : object
        Candidate input.

    Returns
    -------
    bool
        True for a list/tuple of 2-D arrays that are not all of the same
        shape. False otherwise, including for malformed lists (which
        :func:`check_X` rejects with a message naming the bad element).
    """
    try:
        shapes = sequence_shapes(X)
    except ValueError:
        return False
    return shapes is not None and len(set(shapes)) > 1


def _position(index: tuple[int, ...], sequence: int | None) -> str:
    parts = []
    if len(index) == 2:
        parts.append(f"sequence {index[0]}")
    elif sequence is not None:
        parts.append(f"sequence {sequence}")
    parts.append(f"frame {index[-1]}")
    return ", ".join(parts)


def trailing_padding(
    X: np.ndarray, *, input_name: str = "X", sequence: int | None = None
) -> np.ndarray:
    """Mask of the trailing all-NaN padding frames of sequences.

    A frame is padding when all its features are NaN and every later frame of
    its sequence is padding too. Any other NaN is an error. Infinity is not
    checked here.

    Parameters
    ----------
    X : ndarray of shape (n_timesteps, n_features) or \
            (n_samples, n_timesteps, n_features)
        Float sequences: one sequence or a batch of sequences.
    input_name : str, default="X"
        Name of the input in error messages.
    sequence : int, optional
        Index of the sequence, for error messages about a single 2-D
        sequence of a list.

    Returns
    -------
    padding : ndarray of bool of shape ``X.shape[:-1]``
        True on padding frames. The number of real frames of a sequence is
        ``n_timesteps - padding.sum(axis=-1)``.

    Raises
    ------
    ValueError
        If a frame has some but not all features NaN, or an all-NaN frame
        is followed by a frame with values; the message names the sequence
        and the frame.
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"Expected sequences of shape (n_timesteps, n_features) or (n_samples, "
            f"n_timesteps, n_features), got an array of shape {X.shape}."
        )
    nan = np.isnan(X)
    if not nan.any():
        return np.zeros(X.shape[:-1], dtype=bool)
    frame_nan = nan.all(axis=-1)
    partial = nan.any(axis=-1) & ~frame_nan
    if partial.any():
        where = _position(tuple(np.argwhere(partial)[0]), sequence)
        raise ValueError(
            f"Input {input_name} contains NaN inside a frame ({where}). NaN is only "
            "allowed as padding: whole frames (all features NaN) at the end of a "
            "sequence."
        )
    padding = np.flip(
        np.logical_and.accumulate(np.flip(frame_nan, axis=-1), axis=-1), axis=-1
    )
    stray = frame_nan & ~padding
    if stray.any():
        where = _position(tuple(np.argwhere(stray)[0]), sequence)
        raise ValueError(
            f"Input {input_name} contains NaN padding frames that are followed by "
            f"valid frames ({where}); NaN padding frames must be trailing."
        )
    return padding


def check_float32_range(
    X: np.ndarray, *, input_name: str = "X", sequence: int | None = None
) -> None:
    """Reject finite values that overflow when cast to float32.

    Parameters
    ----------
    X : ndarray
        Float array without NaN.
    input_name : str, default="X"
        Name of the input in error messages.
    sequence : int, optional
        Index of the sequence, for error messages about a list element.

    Raises
    ------
    ValueError
        If some ``abs(value)`` exceeds ``np.finfo(np.float32).max``
        (about 3.4e38): the cast to float32 would make it infinite.
    """
    if X.dtype.itemsize <= 4 or X.size == 0:
        return
    with np.errstate(invalid="ignore"):
        big = max(float(np.max(X)), -float(np.min(X)))
    if big > FLOAT32_MAX:
        where = f" (sequence {sequence})" if sequence is not None else ""
        raise ValueError(
            f"Input {input_name}{where} contains values too large for float32: the "
            f"largest absolute value is {big:.6g}, but float32 holds at most "
            f"{FLOAT32_MAX:.8g} (np.finfo(np.float32).max). Rescale the features."
        )


def delay_sequences(
    x: np.ndarray, lengths: np.ndarray, delay: int
) -> tuple[np.ndarray, np.ndarray]:
    """Extend every zero-padded sequence by ``delay`` copies of its last real frame.

    Parameters
    ----------
    x : ndarray of shape (n, T, F)
        Sequences, padded at the end.
    lengths : ndarray of shape (n,)
        The real frames of every sequence (at least 1).
    delay : int
        Frames to add (0: ``x`` and ``lengths`` are returned as they are,
        whatever they are: tabular rows and None too).

    Returns
    -------
    x_delayed : ndarray of shape (n, T + delay, F)
        The sequences, each followed by ``delay`` copies of its last real
        frame, then the padding (zeros).
    lengths_delayed : ndarray of shape (n,)
        ``lengths + delay``.
    """
    if delay == 0:
        return x, lengths
    lengths = np.asarray(lengths, dtype=np.int64)
    n, T = x.shape[:2]
    out = np.zeros((n, T + delay) + x.shape[2:], dtype=x.dtype)
    out[:, :T] = x
    rows = np.arange(n)[:, None]
    cols = lengths[:, None] + np.arange(delay)[None, :]
    out[rows, cols] = x[np.arange(n), lengths - 1][:, None]
    return out, lengths + delay


def delay_labels(y: np.ndarray, delay: int) -> np.ndarray:
    """Move per-frame labels ``delay`` frames later; the first ``delay`` become -1.

    Parameters
    ----------
    y : ndarray of shape (n, T)
        Encoded per-frame labels, -1 on padding.
    delay : int
        Frames to move them by.

    Returns
    -------
    ndarray of shape (n, T + delay)
        ``-1`` on the first ``delay`` frames, then ``y``: the output at frame
        ``t + delay`` is trained on the label of frame ``t``.
    """
    if delay == 0:
        return y
    out = np.full((y.shape[0], y.shape[1] + delay), -1, dtype=y.dtype)
    out[:, delay:] = y
    return out


def check_future_frames(future_frames: Any, hole: Any) -> int:
    """``future_frames`` of a program of type ``hole``, checked, as an int.

    Parameters
    ----------
    future_frames : int
        Frames after a frame that its decision reads.
    hole : FunctionType
        The program's type; only a per-frame program (a sequence output)
        may read ahead.

    Returns
    -------
    int
        ``future_frames``.

    Raises
    ------
    TypeError
        If it is not an int.
    ValueError
        If it is negative, or positive for a program without per-frame output.
    """
    if isinstance(future_frames, bool) or not isinstance(
        future_frames, (int, np.integer)
    ):
        raise TypeError(
            f"future_frames must be an int, got {type(future_frames).__name__}."
        )
    if future_frames < 0:
        raise ValueError(f"future_frames must be at least 0, got {future_frames}.")
    if future_frames and not hole.output.is_seq:
        raise ValueError(
            "future_frames is only for per-frame programs (a sequence output); "
            f"this program's type is {hole}."
        )
    return int(future_frames)
