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
    plot_feature_group_importance,
    plot_program,
    plot_search,
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
    return [r for r in history if r["phase"] in ("greedy", "select")]


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
    assert len(chosen) == 1
    # every scored candidate is a point, plus the star of the chosen one
    assert _n_points(ax) == len(scored) + 1
    assert ax.get_xlabel() == "structural cost (productions)"
    assert ax.get_ylabel() == "validation F1"
    star = ax.collections[-1].get_offsets()[0]
    assert star[1] == pytest.approx(chosen[0]["score"])


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
