"""The contract of a production kind: what a kind of production means everywhere.

A production (:class:`~sklearn_dpads.grammar.Production`) is pure data: a
name, a :class:`Kind`, an arity and kind-specific parameters. The kind holds
everything the package knows about productions of that kind, in one place:

* **typing and text** (this layer, torch-free): :attr:`Kind.name`,
  :attr:`Kind.arity`, :meth:`Kind.check`, :meth:`Kind.child_types`,
  :meth:`Kind.display`, :attr:`Kind.role`;
* **canonical forms** (this layer): :attr:`Kind.algebra`,
  :attr:`Kind.affine_leaf`, :attr:`Kind.constant_leaf`, read by
  :func:`~sklearn_dpads.grammar.canonical.fold_pair`;
* **semantics**: :meth:`Kind.module` builds the torch module (with the state
  it carries between chunks of a long sequence), :meth:`Kind.read` reads its
  parameters as plain floats, :meth:`Kind.affine_map` and
  :meth:`Kind.absorb` expose and merge an affine leaf's map;
* **exports**: :meth:`Kind.python` and :meth:`Kind.python_step` write the
  standard-library batch and streaming code of a node, :meth:`Kind.sympy`
  its sympy form, :meth:`Kind.export_summary` its line in the export header;
* **reading**: :meth:`Kind.describe` says what a node computes in plain
  words (in the input's units, :mod:`sklearn_dpads.describe`), and
  :meth:`Kind.explain` splits its value into additive parts for the reasons
  of each prediction; the defaults are honest (not simplified, one part);
* **engine hints**: :attr:`Kind.plan_rank`, :meth:`Kind.plan_combine` and
  :meth:`Kind.plan_parameter` say how an atom plan batches a combinator.

The built-in kinds live in :mod:`sklearn_dpads.kinds`, one module each, and
user productions (:func:`~sklearn_dpads.make_production`) share the
``elementwise`` kind. The rest of the package asks a production's kind; it
never compares kind names. This module only defines the contract, so the
grammar stays free of torch: the semantic and export hooks raise
:class:`NotImplementedError` here and are implemented by every concrete kind
(``tests/kinds/test_conformance.py`` checks that each one is).

A kind is an immutable singleton: pickling stores a reference to it by name
(``<module>.<KIND_CONSTANT>``), and copying returns the same object. For code
written when a production's kind was a string, a kind also compares equal to
its name (``production.kind == "fold"``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

__all__ = ["Kind"]


class Kind:
    """What one kind of production means: typing, semantics, exports, engine hints.

    Subclasses set the class attributes and implement the methods; one
    instance of each subclass is bound, in its own module, to a module-level
    constant named by :attr:`constant` (for example ``FOLD``). See the
    module docstring for the parts of the contract.

    Attributes
    ----------
    name : str
        The kind's name (``"fold"``, ``"affine"``, ...), shown in reprs and
        :class:`~sklearn_dpads.semantics.compile.LeafParameters`.
    arity : int or None
        The number of argument slots every production of this kind has; None
        when the production chooses it (1 to 3).
    role : {"sequence", "combine", "leaf"}
        How a program picture draws the node: a walk over frames, a
        combination of its arguments, or a leaf.
    algebra : {"sum", "product"} or None
        For binary combinators that canonical forms may fold: the value is
        the sum, or the element-wise product, of the two arguments.
    affine_leaf : bool
        The value is ``W x[indices] + b`` of the atom input (the leaf has a
        weight per selected input and a bias): importances, widening and
        canonical forms read it through :meth:`affine_map`.
    feature_leaf : bool
        An atom leaf that reads selected features of the frame (affine,
        quadratic): the local search's branch condition narrows it to an
        affine leaf of one feature group (``ite(affine[distance],
        quadratic[velocity], quadratic[velocity])``). Affine leaves are
        feature leaves whatever this says.
    searched : bool
        Whether the differentiable search's graph holds productions of this
        kind (at every hole they fill). False for a leaf that would cost the
        search more than it gives there (a quadratic leaf at every leaf hole
        of a depth-4 graph): the local search's edits reach it instead, from
        the program the search found (:func:`~sklearn_dpads.library.search_grammar`):
        it replaces a leaf over the same features, and branches grow on it.
    narrow_swaps : bool
        In a leaf swap of the local search
        (:func:`~sklearn_dpads.search.edits.neighbours`), the leaf replaces
        only a leaf over the same features (``quadratic[velocity]`` replaces
        ``affine[velocity]``, not every leaf of the hole), so that the
        neighbourhood grows by at most one program per leaf of the program.
        Leaves that are not :attr:`searched` swap in the same way.
    constant_leaf : bool
        The value is a learned constant vector (a bias without weights).
    lagged_leaf : bool
        A leaf with weights per lag: its parameters' ``weight`` is nested
        ``(k, length, len(indices))`` (a temporal filter).
    plan_rank : int or None
        Atom combinators that an atom plan batches: their position in the
        order the plan stacks them (None: not batched; a subtree holding such
        a production is evaluated recursively). Leaves with
        :meth:`bank_columns` (an :meth:`affine_map`, or a quadratic map) are
        batched in the plan's bank.
    branching : bool
        The first argument chooses between the other two, which have the
        production's own type (``ite``): the local search
        (:func:`~sklearn_dpads.search.edits.neighbours`) grows a subtree
        ``S`` into ``production(C, S, S)``.
    constant : str
        Name of the module-level constant holding the kind's instance.
    """

    name: ClassVar[str] = ""
    arity: ClassVar[int | None] = None
    role: ClassVar[Literal["sequence", "combine", "leaf"]] = "combine"
    algebra: ClassVar[Literal["sum", "product"] | None] = None
    affine_leaf: ClassVar[bool] = False
    feature_leaf: ClassVar[bool] = False
    searched: ClassVar[bool] = True
    narrow_swaps: ClassVar[bool] = False
    constant_leaf: ClassVar[bool] = False
    lagged_leaf: ClassVar[bool] = False
    plan_rank: ClassVar[int | None] = None
    branching: ClassVar[bool] = False
    constant: ClassVar[str] = ""

    # identity ---------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<kind {self.name}>"

    def __eq__(self, other: object) -> bool:
        # a kind equals itself and, for code written when kinds were strings,
        # its name; the package itself asks the kind and never compares names
        if isinstance(other, str):
            return other == self.name
        return other is self

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> str:
        # a singleton: pickled as a reference to its module-level constant
        return self.constant

    def __copy__(self) -> Kind:
        return self

    def __deepcopy__(self, memo: dict) -> Kind:
        return self

    # typing and text ----------------------------------------------------------
    def check(self, production: Any) -> None:
        """Validate the kind-specific parameters of ``production``.

        Parameters
        ----------
        production : Production
            A production of this kind, being constructed.

        Raises
        ------
        GrammarError
            If its parameters are not valid for this kind.
        """

    def child_types(self, production: Any, hole: Any, n_features: int) -> Any:
        """Return the types of the argument slots when filling ``hole``, or None.

        Parameters
        ----------
        production : Production
            A production of this kind.
        hole : FunctionType
            The hole to fill.
        n_features : int
            Number of input features of the program.

        Returns
        -------
        tuple of FunctionType or None
            None when the production cannot fill the hole.
        """
        raise NotImplementedError(f"kind {self.name!r} does not define its typing")

    def display(self, production: Any, args: list[str]) -> str:
        """Return the readable form of ``production`` applied to ``args``.

        Parameters
        ----------
        production : Production
            A production of this kind.
        args : list of str
            Readable forms of the arguments, one per slot.

        Returns
        -------
        str
            ``name(arg, ...)`` unless the kind writes itself otherwise.
        """
        return f"{production.name}({', '.join(args)})"

    def label(self, production: Any) -> str:
        """Return the short label of a node of ``production`` in program pictures.

        Parameters
        ----------
        production : Production
            A production of this kind.

        Returns
        -------
        str
            The production's name unless the kind labels itself otherwise.
        """
        return production.name

    # semantics ------------------------------------------------------------------
    def module(self, production: Any, hole: Any, child_types: tuple, n_features: int):
        """Build the torch module of ``production`` filling ``hole`` (arguments unset).

        Parameters
        ----------
        production : Production
            A production of this kind.
        hole : FunctionType
            The hole it fills.
        child_types : tuple of FunctionType
            Types of its argument slots.
        n_features : int
            Number of input features of the program.

        Returns
        -------
        ProductionModule
            The module, called as ``module(x, mask, ctx)``.
        """
        raise NotImplementedError(f"kind {self.name!r} has no torch module")

    def read(self, module: Any) -> Any:
        """Return the node's numeric parameters as plain floats.

        Parameters
        ----------
        module : ProductionModule
            A module built by :meth:`module`.

        Returns
        -------
        LeafParameters
            The fields that apply to this kind (only ``kind`` for a node
            without parameters).
        """
        raise NotImplementedError(f"kind {self.name!r} does not read its parameters")

    def weight_inputs(self, production: Any, leaf: Any) -> Any:
        """The inputs each weight column of a feature leaf multiplies.

        Read by :func:`~sklearn_dpads.inspection.feature_group_importance`.

        Parameters
        ----------
        production : Production
            A production of this kind.
        leaf : LeafParameters
            Its parameters, as :meth:`read` gives them.

        Returns
        -------
        list of tuple of int, or None
            One tuple per column of ``leaf.weight``: the input positions
            whose product the column weighs (one for a linear term, two for
            a product). The default: one per entry of ``leaf.indices`` for
            an affine or feature leaf, None for other kinds.
        """
        if not (self.affine_leaf or self.feature_leaf) or leaf.indices is None:
            return None
        return [(int(i),) for i in leaf.indices]

    def affine_map(self, module: Any) -> Any:
        """The affine map of a leaf module: ``(index, weight, bias)``, or None.

        Parameters
        ----------
        module : ProductionModule
            A module built by :meth:`module`.

        Returns
        -------
        tuple or None
            ``(index, weight, bias)`` tensors for a leaf computing ``weight @
            x[index] + bias`` (``index`` and ``weight`` None for a constant);
            None for every other kind.
        """
        return None

    def bank_columns(self, module: Any) -> Any:
        """The input columns a leaf weighs in the atom plan's bank, or False.

        The plan (:mod:`~sklearn_dpads.graph.atom_plan`) computes every leaf
        of an atom subtree that has a bank map in one matrix product over the
        input widened by the products its leaves weigh.

        Parameters
        ----------
        module : ProductionModule
            A module built by :meth:`module`.

        Returns
        -------
        list of tuple of int, None or False
            One tuple per column of the weight of :meth:`bank_weights`: the
            input positions whose product the column weighs (one for a
            linear term, two for a product of two inputs); None for a
            constant (a bias without weights); False for a leaf the bank does
            not hold. The default follows :meth:`affine_map`.
        """
        part = self.affine_map(module)
        if part is None:
            return False
        index = part[0]
        return None if index is None else [(int(i),) for i in index.tolist()]

    def bank_weights(self, module: Any) -> Any:
        """``(weight, bias)`` of a leaf the bank holds (see :meth:`bank_columns`).

        Parameters
        ----------
        module : ProductionModule
            A module whose :meth:`bank_columns` is not False.

        Returns
        -------
        tuple of torch.Tensor
            ``weight`` of shape ``(k, len(columns))`` (None for a constant)
            and ``bias`` of shape ``(k,)``. The default follows
            :meth:`affine_map`.
        """
        _, weight, bias = self.affine_map(module)
        return weight, bias

    def absorb(self, module: Any, other: Any, algebra: str) -> None:
        """Fold leaf ``other`` into leaf ``module`` in place (canonical forms).

        Called only for the pairs that
        :func:`~sklearn_dpads.grammar.canonical.fold_pair` folds, with
        ``module`` the survivor.

        Parameters
        ----------
        module : ProductionModule
            The surviving leaf (a copy), changed in place.
        other : ProductionModule
            The leaf folded into it.
        algebra : {"sum", "product"}
            How the two were combined.
        """
        raise NotImplementedError(f"kind {self.name!r} does not fold leaves")

    # exports --------------------------------------------------------------------
    def python(self, gen: Any, node: Any, kids: list[str]) -> list[str]:
        """Return the body of the node's standard-library function.

        Parameters
        ----------
        gen : NodeGenerator
            The export's generator (names, parameters, runtime helpers).
        node : TypedNode
            The node.
        kids : list of str
            Names of the children's functions.

        Returns
        -------
        list of str
            Body lines; the input is ``x`` (atom input: a list of floats) or
            ``xs`` (sequence input: a list of frames).
        """
        raise NotImplementedError(f"kind {self.name!r} has no Python export")

    def python_step(
        self, gen: Any, node: Any, kids: list[str], steps: list[str]
    ) -> list[str]:
        """Return the body of the node's streaming step function ``(st, x)``.

        Only called for nodes with a sequence input.

        Parameters
        ----------
        gen : NodeGenerator
            The export's generator.
        node : TypedNode
            The node.
        kids : list of str
            Names of the children's batch functions.
        steps : list of str
            Names of the children's step functions.

        Returns
        -------
        list of str
            Body lines computing the value after the frame ``x``, with what
            is kept of earlier frames in ``st[gen.state_key(node)]``.
        """
        raise NotImplementedError(f"kind {self.name!r} has no streaming export")

    def sympy(self, builder: Any, node: Any, inputs: list) -> list:
        """Return the node's value as sympy expressions, one per output.

        Parameters
        ----------
        builder : object
            The sympy exporter: ``build(child, inputs)``, ``leaf(path)``,
            ``features``, ``time``, ``sigmoid`` and ``wrap(name)``.
        node : TypedNode
            The node.
        inputs : list of sympy.Symbol
            The symbols of the node's atom input.

        Returns
        -------
        list of sympy.Expr
            One expression per output.
        """
        raise NotImplementedError(f"kind {self.name!r} has no sympy export")

    def export_summary(self, production: Any) -> tuple[str, str] | None:
        """Return ``(section, line)`` of the export header for ``production``, or None.

        Parameters
        ----------
        production : Production
            A production of this kind used by the exported program.

        Returns
        -------
        tuple of str or None
            The header section's title and the line naming what the
            production reads; None when it reads no features itself.
        """
        return None

    # reading: plain words and explanations --------------------------------------
    def describe(self, describer: Any, node: Any, kids: list) -> Any:
        """Return what the node computes, from its children's descriptions.

        The default is honest: the node is named as a function of its
        arguments, ``name(A, B)``, and said not to be simplified. Kinds that
        can say more (an affine map, a window mean, a fold's exponential
        average) return a linear form or a blend built with ``describer``'s
        services (:mod:`sklearn_dpads.describe`).

        Parameters
        ----------
        describer : Describer
            The walk: ``parameters(node)``, ``affine``, ``constant``, ``add``,
            ``multiply``, ``blend``, ``operator``, ``over_frames``,
            ``reading``, ``record`` and ``opaque``.
        node : TypedNode
            The node.
        kids : list
            The descriptions of its arguments, in slot order.

        Returns
        -------
        object
            A ``Linear``, ``Blend`` or ``Opaque`` of
            :mod:`sklearn_dpads.describe._algebra`.
        """
        if node.hole.input.is_seq and not node.hole.output.is_seq and kids:
            describer.record(node, None)  # it reads several frames: say so
        return describer.opaque(node, kids)

    def explain(
        self, explainer: Any, node: Any, module: Any, x: Any, mask: Any
    ) -> list:
        """Return the node's value on ``x`` as additive parts.

        The default is exact: one part, the node's whole value. Kinds whose
        value is a sum (an affine map, a window of a sum, an if-then-else of
        two sums) return one part per term, built with ``explainer``'s
        services, so that every prediction's score splits into the
        contributions of the program's terms.

        Parameters
        ----------
        explainer : Explainer
            The walk: ``parts(child, x, mask)``, ``value(child, x, mask)``,
            ``whole``, ``input_part``, ``bias_part``, ``operator`` and
            ``module_of``.
        node : TypedNode
            The node.
        module : ProductionModule
            Its module.
        x : torch.Tensor
            Its input, as the module takes it.
        mask : torch.Tensor or None
            The real frames of a sequence input; None for an atom input.

        Returns
        -------
        list of Part
            Parts whose values add up to the module's output.
        """
        return explainer.whole(node, x, mask)

    # engine hints ---------------------------------------------------------------
    def plan_parameter(self, module: Any) -> float | None:
        """The per-member scalar of a batched combinator (None: it has none).

        Parameters
        ----------
        module : ProductionModule
            A module of this kind.

        Returns
        -------
        float or None
            E.g. an if-then-else's temperature.
        """
        return None

    def plan_combine(self, args: Any, parameter: Any) -> Any:
        """Combine the stacked arguments of every batched member at once.

        Parameters
        ----------
        args : torch.Tensor
            ``(arity, M, N, k)``: argument ``s`` of the ``M`` members.
        parameter : torch.Tensor or None
            ``(M, 1, 1)`` per-member scalars of :meth:`plan_parameter`, or
            None when they all equal 1.

        Returns
        -------
        torch.Tensor
            ``(M, N, k)``.
        """
        raise NotImplementedError(f"kind {self.name!r} is not batched")
