"""Tests for sklearn_dpads.plotting (matplotlib Agg backend, tiny fitted models)."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_dpads import (  # noqa: E402
    ProgramParseError,
    ProgramSynthesisClassifier,
    SequenceStandardScaler,
    default_dsl,
)
from sklearn_dpads.datasets import make_planted_sequences  # noqa: E402
from sklearn_dpads.inspection import feature_group_importance  # noqa: E402
from sklearn_dpads.plotting import (  # noqa: E402
    plot_ethogram,
    plot_feature_group_importance,
    plot_program,
    plot_search,
    plot_temporal_filters,
)
from sklearn_dpads.program import Program  # noqa: E402

TINY = dict(
    max_depth=2,
    search_epochs=1,
    prune_epochs=1,
    selection_epochs=1,
    program_epochs=2,
    finetune_epochs=3,
    random_state=0,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return make_planted_sequences(
        n_samples=60, n_timesteps=8, n_features=4, label_type="frame", random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    clf = ProgramSynthesisClassifier(
        feature_groups=data.feature_groups, feature_names=data.feature_names, **TINY
    )
    return clf.fit(data.X, data.y)


@pytest.fixture(scope="module")
def fitted_tabular():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] - 0.5 * X[:, 2] > 0).astype(int)
    return ProgramSynthesisClassifier(**TINY).fit(X, y), X


def _n_points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections)


def _scored(history):
    return [r for r in history if r["phase"] in ("greedy", "select", "refine", "grow")]


# ---------------------------------------------------------------- plot_program
def test_plot_program_text_draws_one_box_per_node():
    text = "(map (ite (affine_a) (add (affine_b) (const)) (affine)))"
    dsl = default_dsl(4, {"a": [0, 1], "b": [2, 3]})
    ax = plot_program(text, dsl=dsl)
    prog = Program.parse(text)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.texts) == prog.size == 7
    assert len(ax.lines) == prog.size - 1
    labels = [t.get_text() for t in ax.texts]
    assert labels == [
        "map",
        "ite",
        "affine[a]",
        "add",
        "affine[b]",
        "const",
        "affine[all]",
    ]
    # parents are above their children and centred over them
    ys = [t.get_position()[1] for t in ax.texts]
    assert ys[0] > ys[1] > ys[2] == ys[3] > ys[4]


def test_plot_program_without_dsl_uses_names_and_given_axes():
    fig, ax = plt.subplots()
    out = plot_program(Program.parse("(fold (add (affine_x0) (affine)))"), ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.texts] == ["fold", "add", "affine_x0", "affine"]


def test_plot_program_estimator(fitted):
    ax = plot_program(fitted)
    prog = fitted.program_
    assert len(ax.texts) == prog.size
    assert len(ax.lines) == prog.size - 1
    assert ax.get_title().replace("\n", " ") == prog.pretty(fitted.dsl_)
    # affine leaves carry their trained weights on a second line
    for (_, sub), t in zip(prog.walk(), ax.texts, strict=True):
        if fitted.dsl_[sub.symbol].kind == "affine":
            assert "\n" in t.get_text()
    ax = plot_program(fitted, show_weights=False)
    assert all("\n" not in t.get_text() for t in ax.texts)


def test_plot_program_tabular(fitted_tabular):
    clf, _ = fitted_tabular
    ax = plot_program(clf)
    assert len(ax.texts) == clf.program_.size


def test_plot_program_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        plot_program(ProgramSynthesisClassifier())
    with pytest.raises(TypeError, match="expects a fitted ProgramSynthesisClassifier"):
        plot_program(42)
    with pytest.raises(TypeError, match="expects a fitted ProgramSynthesisClassifier"):
        plot_program(LogisticRegression())
    with pytest.raises(ProgramParseError):
        plot_program("(map (affine")
    with pytest.raises(TypeError, match="dsl must be a DSL"):
        plot_program("(map (affine))", dsl="not a dsl")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_program("(map (affine))", ax="axes")


# ----------------------------------------------------------------- plot_search
def test_plot_search_estimator(fitted):
    ax = plot_search(fitted)
    scored = _scored(fitted.search_history_)
    chosen = [r for r in scored if r.get("program") == fitted.program_]
    assert chosen
    # every scored candidate is a point, plus the star of the chosen one
    assert _n_points(ax) == len(scored) + 1
    assert ax.get_xlabel() == "structural cost (productions)"
    assert ax.get_ylabel() == "held-out average precision"
    star = ax.collections[-1].get_offsets()[0]
    assert star[1] == pytest.approx(chosen[-1]["score"])


def test_plot_search_history_list(fitted):
    history = list(fitted.search_history_)
    ax = plot_search(history, jitter=0)
    scored = _scored(history)
    assert _n_points(ax) == len(scored) + 1
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert set(xs.tolist()) <= {float(r["cost"]) for r in scored}


def test_plot_search_partial_points_are_lighter():
    history = [
        {"phase": "unfold", "score": 0.5},
        {
            "phase": "greedy",
            "program": Program.parse("(map (affine))"),
            "complete": True,
            "score": 0.6,
            "cost": 2.0,
            "objective": 0.42,
        },
        {
            "phase": "select",
            "program": None,
            "complete": False,
            "score": 0.7,
            "cost": 5.0,
            "objective": 0.35,
        },
        {
            "phase": "select",
            "program": Program.parse("(map (add (affine) (const)))"),
            "complete": True,
            "score": 0.8,
            "cost": 4.0,
            "objective": 0.24,
        },
    ]
    ax = plot_search(history)
    complete, partial, chosen = ax.collections
    assert len(complete.get_offsets()) == 2
    assert len(partial.get_offsets()) == 1
    assert partial.get_alpha() < 1
    assert chosen.get_offsets()[0][1] == pytest.approx(0.8)
    # the equal-objective line has the slope of the (inferred) penalty 0.01
    (line,) = ax.lines
    x, y = line.get_data()
    assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(0.01)


def test_plot_search_uses_the_recorded_penalty(fitted):
    # rows record the penalty of their objective: the line uses it, not the
    # estimator's parameter nor an inference from the objective
    history = [dict(r) for r in fitted.search_history_]
    for r in history:
        r["penalty"] = 0.25
    ax = plot_search(history)
    (line,) = ax.lines
    x, y = line.get_data()
    assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(0.25)
    assert "penalty=0.25" in line.get_label()


def test_plot_search_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        plot_search(ProgramSynthesisClassifier())
    with pytest.raises(ValueError, match="no scored candidate"):
        plot_search([])
    with pytest.raises(ValueError, match="no scored candidate"):
        plot_search([{"phase": "unfold", "score": 0.5}])
    with pytest.raises(TypeError, match="list of dicts"):
        plot_search([1, 2])
    with pytest.raises(TypeError, match="search_history_"):
        plot_search("history")
    with pytest.raises(ValueError, match="jitter"):
        plot_search([], jitter=-1)


# ------------------------------------------ feature-group importance (see also
# tests/test_inspection.py, which checks the numbers)
def test_plot_feature_group_importance_bars(fitted, data):
    ax = plot_feature_group_importance(fitted, data.X)
    imp = feature_group_importance(fitted, data.X)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.patches) == len(imp)
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == pytest.approx(sorted(imp.values()))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(imp)[::-1]


def test_importance_full_affine_is_split_into_groups(fitted, data):
    # a program over all features reports the DSL's groups, not raw features
    import copy

    from sklearn_dpads.grammar.types import FunctionType, Seq
    from sklearn_dpads.semantics import compile_program

    clf = copy.deepcopy(fitted)
    clf.program_ = Program.parse("(map (affine))")
    hole = FunctionType(Seq(4), Seq(1))
    clf.module_ = compile_program(clf.program_, clf.dsl_, hole).double()
    ax = plot_feature_group_importance(clf, data.X)
    assert len(ax.patches) == len(data.feature_groups)


def test_importance_no_affine_leaf(fitted, data):
    import copy

    from sklearn_dpads.grammar.types import FunctionType, Seq
    from sklearn_dpads.semantics import compile_program

    clf = copy.deepcopy(fitted)
    clf.program_ = Program.parse("(map (const))")
    clf.module_ = compile_program(
        clf.program_, clf.dsl_, FunctionType(Seq(4), Seq(1))
    ).double()
    ax = plot_feature_group_importance(clf, data.X)
    assert len(ax.patches) == 0
    assert "no affine leaf" in ax.texts[0].get_text()


def test_importance_pipeline_and_tabular(fitted, data, fitted_tabular):
    scaler = SequenceStandardScaler().fit(data.X)
    pipe = Pipeline([("scale", scaler), ("clf", fitted)])
    ax = plot_feature_group_importance(pipe, data.X)
    assert len(ax.patches) == len(feature_group_importance(pipe, data.X))
    assert len(plot_program(pipe).texts) == fitted.program_.size

    clf, X = fitted_tabular
    imp = feature_group_importance(clf, X)
    ax = plot_feature_group_importance(clf, X)
    assert len(ax.patches) == len(imp)


def test_importance_errors(fitted, data):
    with pytest.raises(NotFittedError, match="not fitted"):
        plot_feature_group_importance(ProgramSynthesisClassifier(), data.X)
    with pytest.raises(TypeError, match="expects a fitted ProgramSynthesisClassifier"):
        plot_feature_group_importance(LogisticRegression(), data.X)
    with pytest.raises(ValueError, match="features"):
        plot_feature_group_importance(fitted, data.X[:, :, :3])
    with pytest.raises(ValueError, match="tabular|2D"):
        plot_feature_group_importance(fitted, data.X[:, 0, :])


def test_search_objects_need_best_estimator(fitted):
    from sklearn.model_selection import GridSearchCV

    grid = GridSearchCV(fitted, {"penalty": [0.01]})
    with pytest.raises(NotFittedError, match="best_estimator_"):
        plot_program(grid)
    grid.best_estimator_ = fitted  # as after fit with refit=True
    assert len(plot_program(grid).texts) == fitted.program_.size


# -------------------------------------------------------------- plot_temporal_filters
def _filter_module(text, hole="list[4] -> atom[1]"):
    from sklearn_dpads.grammar.types import parse_type
    from sklearn_dpads.semantics import compile_program

    dsl = default_dsl(4, {"a": [0, 1], "b": [3]}, filters=(3, 5), difference=True)
    return compile_program(text, dsl, parse_type(hole))


def test_plot_temporal_filters_draws_weights_against_lag():
    module = _filter_module("(ite (filter5_a) (diff (filter3_b)) (filter3_b))")
    fig, ax = plt.subplots()
    assert plot_temporal_filters(module, ax=ax) is ax
    # leaves in pre-order: filter5_a (2 features), filter3_b twice (1 feature)
    assert [line.get_label() for line in ax.lines] == [
        "filter5[a] x0",
        "filter5[a] x1",
        "filter3[b] (1, 0) x3",
        "filter3[b] (2,) x3",
    ]
    leaf = module.leaf((0,))
    for c, line in enumerate(ax.lines[:2]):
        assert list(line.get_xdata()) == [0, 1, 2, 3, 4]
        want = [leaf.weight[0][j][c] for j in range(5)]
        np.testing.assert_allclose(line.get_ydata(), want)
    assert list(ax.lines[2].get_xdata()) == [0, 1, 2]
    assert ax.get_xlabel().startswith("lag")
    assert ax.get_legend() is not None
    assert ax.get_title().replace("\n", " ") == module.program.pretty(module.dsl)


def test_plot_temporal_filters_one_line_per_output_and_feature():
    module = _filter_module("(map_prefixes (filter3))", "list[4] -> list[2]")
    ax = plot_temporal_filters(module)
    assert len(ax.lines) == 2 * 4
    assert ax.lines[5].get_label() == "filter3[all] x1 -> out 1"
    leaf = module.leaf((0,))
    np.testing.assert_allclose(
        ax.lines[5].get_ydata(), [leaf.weight[1][j][1] for j in range(3)]
    )


def test_plot_temporal_filters_without_filters_writes_a_note():
    ax = plot_temporal_filters(_filter_module("(last5_avg (affine_a))"))
    assert len(ax.lines) == 0
    assert [t.get_text() for t in ax.texts] == ["the program has no temporal filter"]


def test_plot_temporal_filters_estimator():
    from sklearn_dpads.grammar import DSLBuilder
    from sklearn_dpads.kinds import difference_production, filter_production

    dsl = (
        DSLBuilder(2, feature_names=["pos", "speed"])
        .add(difference_production())
        .add(filter_production("filter4_speed", 4, [1], "speed"))
        .build()
    )
    rng = np.random.RandomState(0)
    X = rng.randn(40, 6, 2)
    y = (X[:, -1, 1] > 0).astype(int)
    clf = ProgramSynthesisClassifier(dsl=dsl, **TINY).fit(X, y)
    ax = plot_temporal_filters(clf)
    assert [line.get_label() for line in ax.lines] == ["filter4[speed] speed"]
    assert "scaled" in ax.get_ylabel()
    path = next(p for p, sub in clf.program_.walk() if sub.symbol == "filter4_speed")
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), np.ravel(clf.module_.leaf(path).weight)
    )
    assert len(plot_temporal_filters(Pipeline([("clf", clf)])).lines) == 1


def test_plot_temporal_filters_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        plot_temporal_filters(ProgramSynthesisClassifier())
    with pytest.raises(TypeError, match="expects a fitted ProgramSynthesisClassifier"):
        plot_temporal_filters("(filter3)")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_temporal_filters(_filter_module("(filter3)"), ax="axes")


def test_plot_program_labels_filters_and_diff():
    dsl = default_dsl(4, {"a": [0, 1]}, filters=(5,), difference=True)
    ax = plot_program("(diff (ite (filter5_a) (filter5) (filter5_a)))", dsl)
    assert [t.get_text() for t in ax.texts] == [
        "diff",
        "ite",
        "filter5[a]",
        "filter5[all]",
        "filter5[a]",
    ]
    colours = [t.get_bbox_patch().get_facecolor() for t in ax.texts]
    assert colours[0] != colours[1] != colours[2]  # sequence, combine, leaf


# ---------------------------------------------------------------- plot_ethogram
def _bars(collection):
    """``(x, width)`` of every bar of a ``broken_barh`` collection."""
    out = []
    for path in collection.get_paths():
        xs = path.vertices[:, 0]
        out.append((float(xs.min()), float(xs.max() - xs.min())))
    return sorted(out)


def test_plot_ethogram_one_recording():
    y_true = [0, 1, 1, 1, 0, 0, 2, 2, 0, 0]
    y_pred = [0, 1, 1, 0, 1, 0, 0, 2, 2, 0]
    ax = plot_ethogram(y_true, y_pred, label_names={1: "attack", 2: "mount"})
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = [c.get_label() for c in ax.collections]
    assert labels == [
        "truth attack",
        "truth mount",
        "prediction attack",
        "prediction mount",
    ]
    assert _bars(ax.collections[0]) == [(1.0, 3.0)]
    assert _bars(ax.collections[2]) == [(1.0, 2.0), (4.0, 1.0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["truth", "prediction"]
    # truth above prediction, each label in its own colour
    ticks = list(ax.get_yticks())
    assert ticks[0] > ticks[1]
    colours = [tuple(c.get_facecolor()[0]) for c in ax.collections]
    assert colours[0] == colours[2] != colours[1] == colours[3]
    assert ax.get_xlabel() == "frame"
    assert ax.get_xlim() == (0.0, 10.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["attack", "mount"]


def test_plot_ethogram_several_recordings_and_seconds():
    y_true = [np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0, 0, 1])]
    fig, ax = plt.subplots()
    out = plot_ethogram(y_true, frame_rate=2.0, ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0 truth", "1 truth"]
    assert [c.get_label() for c in ax.collections] == ["0 truth 1", "1 truth 1"]
    assert _bars(ax.collections[0]) == [(0.5, 1.0)]
    assert _bars(ax.collections[1]) == [(0.0, 1.0), (2.5, 0.5)]
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_xlim() == (0.0, 3.0)
    # a 2-D array is a list of its rows
    ax2 = plot_ethogram(np.array([[0, 1, 1, 0], [1, 1, 0, 0]]))
    assert len(ax2.collections) == 2


def test_plot_ethogram_probability_rows():
    y_true = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    y_pred = np.array([[0, 1, 0, 0], [1, 1, 1, 0]])
    proba = np.array([[0.1, 0.9, 0.4, 0.0], [1.0, 0.8, 0.6, np.nan]])
    ax = plot_ethogram(y_true, y_pred, proba=proba)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [
        "0 truth",
        "0 prediction",
        "0 probability",
        "1 truth",
        "1 prediction",
        "1 probability",
    ]
    assert len(ax.lines) == 2
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), [0.5, 1.5, 2.5, 3.5])  # centres
    # 0 at the bottom of its row, 1 at the top
    row = ax.get_yticks()[2]
    np.testing.assert_allclose(line.get_ydata(), row - 0.4 + 0.8 * proba[0])
    assert np.isnan(ax.lines[1].get_ydata()[-1])
    # one column per drawn label: one line each, in the label's colour
    y3 = [0, 1, 1, 0, 2, 2]
    p3 = np.linspace(0, 1, 12).reshape(6, 2)
    ax = plot_ethogram(y3, proba=p3, label_names=["a", "b"])
    assert [line.get_label() for line in ax.lines] == [
        "probability a",
        "probability b",
    ]
    to_rgba = matplotlib.colors.to_rgba
    for line, bars in zip(ax.lines, ax.collections):
        assert to_rgba(line.get_color()) == tuple(bars.get_facecolor()[0])


def test_plot_ethogram_labels_and_strings():
    y_true = ["none", "walk", "walk", "run", "none"]
    ax = plot_ethogram(y_true, background="none", labels=["walk"])
    assert [c.get_label() for c in ax.collections] == ["truth walk"]  # run not drawn
    ax = plot_ethogram(y_true, background="none")
    assert [c.get_label() for c in ax.collections] == ["truth run", "truth walk"]
    # nothing but background: empty rows, no legend
    ax = plot_ethogram([0, 0, 0], [0, 0, 0])
    assert len(ax.collections) == 0 and ax.get_legend() is None


def test_plot_ethogram_errors():
    with pytest.raises(ValueError, match="y_true has 2 recordings but y_pred has 1"):
        plot_ethogram([[0, 1], [1, 0]], [[0, 1]])
    with pytest.raises(ValueError, match="Recording 0 has 3 frames in y_true but 2"):
        plot_ethogram([0, 1, 1], [0, 1])
    with pytest.raises(
        ValueError, match=r"proba of recording 0 must have shape \(3,\)"
    ):
        plot_ethogram([0, 1, 1], proba=[0.1, 0.2])
    with pytest.raises(ValueError, match="proba has 1 recordings but y_true has 2"):
        plot_ethogram([[0, 1], [1, 0]], proba=[[0.1, 0.2]])
    with pytest.raises(ValueError, match="has 2 columns but 1 labels are drawn"):
        plot_ethogram([0, 1, 1], proba=np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        plot_ethogram([0, 1, 1], proba=[0.0, 2.0, 0.5])
    with pytest.raises(ValueError, match="proba could not be converted"):
        plot_ethogram([0, 1, 1], proba=["a", "b", "c"])
    with pytest.raises(ValueError, match="must not contain the background label 0"):
        plot_ethogram([0, 1, 1], labels=[0, 1])
    with pytest.raises(ValueError, match="must not repeat a label"):
        plot_ethogram([0, 1, 1], labels=[1, 1])
    with pytest.raises(ValueError, match="labels must be a 1-D list"):
        plot_ethogram([0, 1, 1], labels=1)
    with pytest.raises(ValueError, match="label_names has 2 names but 1 labels"):
        plot_ethogram([0, 1, 1], label_names=["a", "b"])
    with pytest.raises(ValueError, match="label_names must be a dict"):
        plot_ethogram([0, 1, 1], label_names="attack")
    for rate in (0, -1.0, float("inf"), "30", True):
        with pytest.raises(ValueError, match="frame_rate must be a finite number > 0"):
            plot_ethogram([0, 1, 1], frame_rate=rate)
    with pytest.raises(ValueError, match="background must be a single label"):
        plot_ethogram([0, 1, 1], background=[0])
    with pytest.raises(ValueError, match=r"1-D sequence .* shape \(1, 1, 3\)"):
        plot_ethogram(np.zeros((1, 1, 3)))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_ethogram([0, 1, 1], ax="axes")
