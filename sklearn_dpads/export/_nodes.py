"""The per-node code of the Python export: one function per program node.

Every node of the AST becomes ``def <prefix>_n_<path>(x)`` (atom input: ``x``
is a list of floats) or ``(xs)`` (sequence input: a list of frames), returning
a list of floats or one per frame, as the torch modules do. A node with a
sequence input also becomes a step function ``def <prefix>_s_<path>(st, x)``
for the streaming form: it takes the next frame ``x`` and returns the node's
value after it, keeping what it needs of earlier frames in the stream's state
dict ``st`` (under a key of its own), with the same arithmetic as the batch
function. The generator writes the functions' heads; each node's kind writes
their bodies (:meth:`Kind.python <sklearn_dpads.grammar.Kind.python>` and
:meth:`Kind.python_step <sklearn_dpads.grammar.Kind.python_step>`) through
the generator's services: names, parameters (read with
:meth:`~sklearn_dpads.semantics.ProgramModule.leaf` and written as exact
literals), module-level constants, user functions, and the sequence helpers
of :mod:`sklearn_dpads.export._runtime` (``_dp_fold``, ``_dp_window_means``,
``_dp_filter``, ``_dp_differences`` and their ``*_push`` streaming
counterparts), which are real functions copied into the export.
"""

from __future__ import annotations

import textwrap

from sklearn_dpads.export._safety import user_function_code
from sklearn_dpads.program import TypedNode
from sklearn_dpads.semantics.compile import LeafParameters, ProgramModule

__all__ = ["NodeGenerator"]


class NodeGenerator:
    """Writes one function per program node, plus the user functions they call.

    Parameters
    ----------
    module : ProgramModule
        The compiled (and trained) program.
    prefix : str
        The export's ``func_name_prefix``.

    Attributes
    ----------
    blocks : list of str
        The node functions (and constants of large affine maps), children first.
    user_code : list of str
        The copied ``python_function`` of every user production used.
    helpers : set of str
        The optional runtime helpers the node functions call.
    """

    def __init__(self, module: ProgramModule, prefix: str) -> None:
        self.module = module
        self.p = prefix
        self.n_features = module.dsl.n_features
        self.subprograms = dict(module.program.walk())
        self.blocks: list[str] = []
        self.user_code: list[str] = []
        self.helpers: set[str] = set()  # optional runtime helpers used
        self._user_alias: dict[str, str] = {}

    # the generator's services to the kinds' python() and python_step() --------
    def fname(self, path: tuple[int, ...]) -> str:
        """Return the name of the batch function of the node at ``path``.

        Parameters
        ----------
        path : tuple of int
            The node's AST path.

        Returns
        -------
        str
            ``<prefix>_n_<path>``; module-level constants of the node take it
            as their prefix.
        """
        return f"{self.p}_n" + "".join(f"_{i}" for i in path)

    def sname(self, path: tuple[int, ...]) -> str:
        """Return the name of the streaming step function of the node at ``path``.

        Parameters
        ----------
        path : tuple of int
            The node's AST path.

        Returns
        -------
        str
            ``<prefix>_s_<path>``.
        """
        return f"{self.p}_s" + "".join(f"_{i}" for i in path)

    def state_key(self, node: TypedNode) -> str:
        """Return the literal of the node's key in the stream's state dict.

        Parameters
        ----------
        node : TypedNode
            The node.

        Returns
        -------
        str
            A string literal, the same whatever the export's prefix.
        """
        return repr(self.sname(node.path).removeprefix(self.p))

    def leaf(self, node: TypedNode) -> LeafParameters:
        """Return the node's parameters as plain floats.

        Parameters
        ----------
        node : TypedNode
            The node.

        Returns
        -------
        LeafParameters
            As :meth:`ProgramModule.leaf
            <sklearn_dpads.semantics.ProgramModule.leaf>` reads them.
        """
        return self.module.leaf(node.path)

    def helper(self, name: str) -> str:
        """Return the exported name of an optional runtime helper, and include it.

        Parameters
        ----------
        name : str
            A function of :mod:`sklearn_dpads.export._runtime` (``"_dp_fold"``).

        Returns
        -------
        str
            Its name in the exported module.
        """
        self.helpers.add(name)
        return self.p + name

    def core(self, name: str) -> str:
        """Return the exported name of a runtime function every export has.

        Parameters
        ----------
        name : str
            E.g. ``"_dp_sigmoid"``.

        Returns
        -------
        str
            Its name in the exported module.
        """
        return self.p + name

    def add_block(self, text: str) -> None:
        """Add module-level code (constants of a node) before the node's function.

        Parameters
        ----------
        text : str
            Python source ending with a newline.
        """
        self.blocks.append(text)

    def user_function(self, prod) -> str:
        """Return the exported name of a user production's ``python_function``.

        The function's source is copied into the export on first use.

        Parameters
        ----------
        prod : Production
            An elementwise (user) production.

        Returns
        -------
        str
            Its alias in the exported module.
        """
        if prod.name not in self._user_alias:
            alias = f"{self.p}_dp_ew_{prod.name}"
            self.user_code.append(
                f"# python_function of the user production {prod.name!r}\n"
                + user_function_code(prod, alias)
            )
            self._user_alias[prod.name] = alias
        return self._user_alias[prod.name]

    def emit(self, node: TypedNode) -> None:
        """Write the functions of ``node`` and of its descendants to :attr:`blocks`.

        Each node's kind writes its body (:meth:`Kind.python
        <sklearn_dpads.grammar.Kind.python>`, and :meth:`Kind.python_step
        <sklearn_dpads.grammar.Kind.python_step>` for a sequence input).

        Parameters
        ----------
        node : TypedNode
            The node (the root: the whole program), type-checked.
        """
        for child in node.children:
            self.emit(child)
        prod, hole = node.production, node.hole
        kids = [self.fname(c.path) for c in node.children]
        head = [f"def {self.fname(node.path)}({'xs' if hole.input.is_seq else 'x'}):"]
        head.append(f'    """{prod.name} : {hole}."""')
        text = self.subprograms[node.path].render()
        for line in textwrap.wrap(text, 80, break_long_words=False):
            head.append(f"    # {line}")
        body = prod.kind.python(self, node, kids)
        self.blocks.append("\n".join(head + ["    " + b for b in body]) + "\n")
        if hole.input.is_seq:
            steps = [self.sname(c.path) for c in node.children]
            head[0] = f"def {self.sname(node.path)}(st, x):"
            head[1] = f'    """{prod.name} : {hole}, one frame at a time."""'
            body = prod.kind.python_step(self, node, kids, steps)
            self.blocks.append("\n".join(head + ["    " + b for b in body]) + "\n")
