"""The runtime of exported programs, as real Python code.

:func:`~sklearn_dpads.export.to_python_source` copies the functions it needs
verbatim into the generated module, renaming module-level names (prefix, and
a variant such as ``_dp_proba_binary`` to ``_dp_proba``). So they use only
``math``, carry no type hints (old Pythons), and name no module-level name
inside an f-string (the renaming skips strings; the exporter checks it). The
constants stand in for an exported module's, ``_n`` for its program and
``_s`` for its streaming form (one frame at a time, see :class:`Stream`).
"""

import math

CLASSES: list = [0, 1]
N_FEATURES = 1
LOGIT_OFFSET = 0.0
CENTER: list | None = None
SCALE: list | None = None
CLIP: float | None = None
LOW: list | None = None
HIGH: list | None = None
DELAY = 0


def _n(x):  # pragma: no cover
    """The program's root function; every export defines its own."""
    raise NotImplementedError


def _s(st, x):  # pragma: no cover
    """The program's root step on one frame; every sequence export defines its own."""
    raise NotImplementedError


def _dp_sigmoid(z):
    """Numerically stable logistic function."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _dp_argmax(p):
    """Index of the largest entry (the first one on ties)."""
    best = 0
    for j in range(1, len(p)):
        if p[j] > p[best]:
            best = j
    return best


def _dp_proba_binary(z):
    """Class probabilities from a single logit, shifted by LOGIT_OFFSET."""
    s = _dp_sigmoid(z[0] + LOGIT_OFFSET)
    return [1.0 - s, s]


def _dp_proba_softmax(z):
    """Class probabilities from a logit vector (softmax)."""
    m = max(z)
    e = [math.exp(v - m) for v in z]
    t = sum(e)
    return [v / t for v in e]


def _dp_score_binary(z):
    """The decision value of a single logit: the logit plus LOGIT_OFFSET."""
    return z[0] + LOGIT_OFFSET


def _dp_score_multi(z):
    """The decision value of a logit vector: the logits."""
    return list(z)


def _dp_frame(frame, where):
    """Validate one frame (or tabular row) and apply the preprocessing."""
    values = [float(v) for v in frame]
    expected = N_FEATURES
    if len(values) != expected:
        raise ValueError(f"{where} has {len(values)} features, expected {expected}.")
    for v in values:
        if v != v or v in (math.inf, -math.inf):
            raise ValueError(f"{where} contains NaN or infinity.")
    if SCALE is not None:
        values = [(v - c) / s for v, c, s in zip(values, CENTER, SCALE)]
    if LOW is not None:
        values = [min(max(v, lo), hi) for v, lo, hi in zip(values, LOW, HIGH)]
    if CLIP is not None:
        values = [min(max(v, -CLIP), CLIP) for v in values]
    return values


def _dp_sequence(seq, i):
    """A sequence as a list of preprocessed frames, padding dropped."""
    frames = [list(frame) for frame in seq]
    end = len(frames)
    while (
        end > 0
        and len(frames[end - 1]) > 0
        and all(float(v) != float(v) for v in frames[end - 1])
    ):
        end -= 1
    if end == 0:
        raise ValueError(
            f"Sequence {i} has no frames (after dropping trailing all-NaN "
            "padding frames)."
        )
    return [_dp_frame(frames[t], f"Frame {t} of sequence {i}") for t in range(end)]


def _dp_outputs_rows(X, fn):
    """``fn`` of the logit vector of every sample (tabular input)."""
    return [fn(_n(_dp_frame(X[i], f"Sample {i}"))) for i in range(len(X))]


def _dp_outputs_last(X, fn):
    """``fn`` of the logit vector of every sequence (at its last frame)."""
    return [fn(_n(_dp_sequence(X[i], i))[-1]) for i in range(len(X))]


def _dp_outputs_steps(X, fn):
    """``fn`` of the logit vector of every real frame of every sequence.

    The decision about frame t is the program's output at frame t + DELAY,
    with the sequence's last frame repeated DELAY times past its end.
    """
    out = []
    for i in range(len(X)):
        xs = _dp_sequence(X[i], i)
        out.append([fn(z) for z in _n(xs + [xs[-1]] * DELAY)[DELAY:]])
    return out


def _dp_window_means(xs, left):
    """For every frame t, the mean of the vectors t-left..t (fewer at the start)."""
    out = []
    for t in range(len(xs)):
        w = xs[max(0, t - left) : t + 1]
        n = len(w)
        out.append([sum(col) / n for col in zip(*w)])
    return out


def _dp_filter(xs, weight, bias, indices):
    """For every frame t: bias + sum over lags j of weight[:][j] . xs[t - j][indices].

    Frames before the first are taken equal to the first frame.
    """
    out = []
    for t in range(len(xs)):
        y = []
        for w_out, b in zip(weight, bias):
            s = b
            for j, w_lag in enumerate(w_out):
                x = xs[max(t - j, 0)]
                s += sum([w * x[i] for w, i in zip(w_lag, indices)])
            y.append(s)
        out.append(y)
    return out


def _dp_differences(xs):
    """The frame differences xs[t] - xs[t-1], and zeros for the first frame."""
    out = [[0.0] * len(x) for x in xs[:1]]
    for t in range(1, len(xs)):
        out.append([a - b for a, b in zip(xs[t], xs[t - 1])])
    return out


def _dp_fold(step, xs, k):
    """All states of ``acc = step(x + acc)`` over the frames, from k zeros."""
    acc = [0.0] * k
    out = []
    for x in xs:
        acc = step(x + acc)
        out.append(acc)
    return out


def _dp_fold_push(st, key, step, x, k):
    """The next state of the fold ``key``: ``step(x + acc)``, from k zeros."""
    acc = st.get(key)
    if acc is None:
        acc = [0.0] * k
    acc = step(x + acc)
    st[key] = acc
    return acc


def _dp_window_push(st, key, y, left):
    """Add y to the window ``key``; the mean of its last left + 1 vectors."""
    w = st.get(key)
    if w is None:
        w = st[key] = []
    w.append(y)
    if len(w) > left + 1:
        del w[0]
    n = len(w)
    return [sum(col) / n for col in zip(*w)]


def _dp_filter_push(st, key, x, weight, bias, indices):
    """Add frame x to the filter ``key``; bias + sum over lags j of weight . x[t - j].

    Frames before the first are taken equal to the first frame.
    """
    hist = st.get(key)
    if hist is None:
        hist = st[key] = [x] * max(len(w_out) for w_out in weight)
    else:
        hist.append(x)
        del hist[0]
    last = len(hist) - 1
    y = []
    for w_out, b in zip(weight, bias):
        s = b
        for j, w_lag in enumerate(w_out):
            xj = hist[last - j]
            s += sum([w * xj[i] for w, i in zip(w_lag, indices)])
        y.append(s)
    return y


def _dp_difference_push(st, key, x):
    """The difference of frame x and the previous frame of ``key`` (zeros first)."""
    prev = st.get(key)
    st[key] = x
    if prev is None:
        return [0.0] * len(x)
    return [a - b for a, b in zip(x, prev)]


class Stream:
    """The program on frames that arrive one at a time (one sequence).

    ``push(frame)`` preprocesses and checks one frame (a list of N_FEATURES
    numbers; NaN and infinity raise ValueError), advances the program's state
    (fold accumulators, the last frames of windows, filters and differences)
    and returns a predicted class label: of the sequence so far for a
    per-sequence program; for a per-frame program, of the frame DELAY frames
    before the one pushed (the program reads DELAY frames after the frame it
    decides), None while fewer than DELAY + 1 frames have come. ``flush()``
    ends the sequence: it returns the labels of its last DELAY frames, which
    read its last frame repeated, as the batch functions do. ``proba()`` and
    ``decision()`` give the class probabilities and the decision value of the
    latest frame decided, the same numbers as ``predict_proba`` and
    ``decision_function`` on the frames pushed so far (at their last frame
    when DELAY is 0). ``reset()`` starts a new sequence; ``n_frames`` counts
    the frames pushed.
    """

    def __init__(self):
        self.n_frames = 0
        self._state = {}
        self._z = None
        self._last = None
        self._flushed = False

    def push(self, frame):
        """Feed the next frame; return the label decided after it (None: none yet)."""
        if self._flushed:
            raise ValueError(
                "The stream was flushed at the end of its sequence; call reset() "
                "to start a new sequence."
            )
        x = _dp_frame(frame, "Frame " + str(self.n_frames))
        z = _s(self._state, x)
        self._last = x
        self.n_frames += 1
        if self.n_frames <= DELAY:
            return None
        self._z = z
        return CLASSES[_dp_argmax(_dp_proba(z))]

    def flush(self):
        """End the sequence; return the labels of its frames not decided yet."""
        out = []
        if self._flushed or self._last is None:
            self._flushed = True
            return out
        self._flushed = True
        for k in range(DELAY):
            z = _s(self._state, self._last)
            if self.n_frames + k >= DELAY:
                self._z = z
                out.append(CLASSES[_dp_argmax(_dp_proba(z))])
        return out

    def proba(self):
        """Class probabilities of the latest frame decided, ordered as CLASSES."""
        return _dp_proba(self._logits())

    def decision(self):
        """Decision value of the latest frame decided (as decision_function)."""
        return _dp_score(self._logits())

    def reset(self):
        """Forget every frame: the next push starts a new sequence."""
        self.__init__()

    def _logits(self):
        """The logits of the latest frame decided (ValueError before any)."""
        if self._z is None:
            if self.n_frames == 0:
                raise ValueError("No frame has been pushed to the stream yet.")
            raise ValueError(
                "No frame has been decided yet: the program reads "
                + str(DELAY)
                + " frames after the frame it decides; push more frames, or "
                "flush() at the end of the sequence."
            )
        return self._z


def make_stream():
    """A new Stream: push frames one at a time, get a prediction after each."""
    return Stream()


def decision_function(X):
    """Raw logits (see the module docstring)."""
    return _dp_outputs(X, _dp_score)


def predict_proba(X):
    """Class probabilities, in the order of CLASSES."""
    return _dp_outputs(X, _dp_proba)


def predict(X):
    """Predicted class labels."""
    return _dp_outputs(X, lambda z: CLASSES[_dp_argmax(_dp_proba(z))])


# An export picks one variant of each (to_python_source); these defaults let
# the module run as it is.
_dp_proba, _dp_score = _dp_proba_softmax, _dp_score_multi
_dp_outputs = _dp_outputs_rows
