"""The evaluation state of a forward pass (``ops.Evaluation``, the ``ctx``).

Memos are computed once per input (``memo``) or once per pass (``once``), keep
their input alive, and die with the evaluation; ``carry`` is the only state
that a chunked evaluation hands from one chunk to the next.
"""

import gc
import weakref

import torch

from sklearn_dpads.grammar.types import parse_type
from sklearn_dpads.library import default_dsl
from sklearn_dpads.semantics import compile_program
from sklearn_dpads.semantics.ops import (
    Evaluation,
    carried,
    frame_differences,
    frames,
    lengths_to_mask,
    per_input,
)


def _counter():
    calls = []

    def compute(value="v"):
        def f():
            calls.append(value)
            return value

        return f

    return calls, compute


def test_memo_computes_once_per_key_and_input():
    ev = Evaluation()
    calls, compute = _counter()
    x, y = torch.zeros(2), torch.zeros(2)
    assert ev.memo(("a",), x, compute(1)) == 1
    assert ev.memo(("a",), x, compute(2)) == 1  # memoised: not computed again
    assert ev.memo(("a",), y, compute(3)) == 3  # another input (equal values)
    assert ev.memo(("b",), x, compute(4)) == 4  # another key
    assert calls == [1, 3, 4]


def test_memo_keeps_its_input_alive_while_the_evaluation_lives():
    ev = Evaluation()
    x = torch.zeros(3)
    ref = weakref.ref(x)
    ev.memo(("a",), x, lambda: 0)
    del x
    gc.collect()
    assert ref() is not None  # its id cannot be reused during the pass
    del ev
    gc.collect()
    assert ref() is None


def test_once_computes_once_per_key_even_for_none():
    ev = Evaluation()
    calls, compute = _counter()
    assert ev.once("w", compute(None)) is None
    assert ev.once("w", compute(1)) is None  # a memoised None is a value
    assert ev.once(("w", 2), compute(2)) == 2
    assert calls == [None, 2]


def test_memo_and_once_keys_do_not_collide():
    ev = Evaluation()
    x = torch.zeros(1)
    assert ev.memo(("k",), x, lambda: "memo") == "memo"
    assert ev.once(("k", id(x)), lambda: "once") == "once"
    assert ev.memo(("k",), x, lambda: "again") == "memo"


def test_evaluations_share_nothing_but_the_carry():
    carry: dict = {}
    first, second = Evaluation(carry=carry), Evaluation(carry=carry)
    x = torch.zeros(1)
    first.memo(("a",), x, lambda: 1)
    first.once("b", lambda: 1)
    assert second.memo(("a",), x, lambda: 2) == 2
    assert second.once("b", lambda: 2) == 2
    carried(first)["module"] = "state"
    assert carried(second) == {"module": "state"}


def test_carry_and_plans_default_to_none():
    ev = Evaluation()
    assert ev.carry is None and ev.plans is None
    assert carried(ev) is None and carried(None) is None
    state: dict = {}
    assert carried(Evaluation(carry=state)) is state


def test_helpers_without_an_evaluation_compute_every_time():
    calls, compute = _counter()
    x = torch.zeros(1)
    per_input(None, ("a",), x, compute(1))
    per_input(None, ("a",), x, compute(2))
    assert calls == [1, 2]
    ev = Evaluation()
    per_input(ev, ("a",), x, compute(3))
    per_input(ev, ("a",), x, compute(4))
    assert calls == [1, 2, 3]
    seq = torch.randn(2, 4, 3)
    mask = lengths_to_mask(torch.tensor([4, 2]), 4)
    assert frames(seq, ev) is frames(seq, ev)
    assert frames(seq, None) is not frames(seq, None)
    assert frame_differences(seq, mask, ev) is frame_differences(seq, mask, ev)
    torch.testing.assert_close(
        frame_differences(seq, mask, ev), frame_differences(seq, mask, None)
    )
    # a later chunk's differences depend on the previous frame: not memoised
    previous = torch.randn(2, 3)
    d = frame_differences(seq, mask, ev, previous)
    assert d is not frame_differences(seq, mask, ev, previous)
    assert d is not frame_differences(seq, mask, ev)


def test_every_forward_pass_gets_a_new_evaluation():
    # a memo surviving a pass would return the old output for the same input
    dsl = default_dsl(2, difference=True)
    m = compile_program("(diff (map (affine)))", dsl, parse_type("list[2] -> list[1]"))
    assert isinstance(m._new_ctx(), Evaluation) and m._new_ctx() is not m._new_ctx()
    x = torch.randn(2, 5, 2)
    with torch.no_grad():
        before = m(x)
        m.node((0, 0)).linear.bias.add_(1.0)
        after = m(x)
    torch.testing.assert_close(after, before + 1.0)
