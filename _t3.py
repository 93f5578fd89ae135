import time, sympy, torch, sys
sys.path.insert(0, "tests/export")
from test_sympy import build, N_FEATURES
from sklearn_dpads.export.sympy import to_sympy, _Builder
for text in ["(add (multiply (affine_a) (affine_b)) (const))", "(ite (affine_a) (affine) (affine_b))", "(maximum (affine_a) (tanh (affine_b)))", "(ite (tanh (affine)) (multiply (const) (affine_b)) (maximum (const) (affine)))"]:
    for n in (1, 3):
        m = build(text, f"atom[{N_FEATURES}] -> atom[{n}]", n)
        e = to_sympy(m, simplify=False)
        ops = [sympy.count_ops(x) for x in (e if n > 1 else [e])]
        t = time.time()
        for x in (e if n > 1 else [e]):
            t1 = time.time(); sympy.simplify(x); print("   ", round(time.time()-t1, 2), sympy.count_ops(x), flush=True)
        print(text, n, ops, time.time() - t, flush=True)
