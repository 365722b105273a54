"""The engine of small-count suppression: which figures of a table to hide so
that no hidden figure can be worked out from the rest
(``services.reporting.suppression`` says what is published and why).

**The table as a network.** A table is figures and sums: each :class:`Group`
says ``whole = sum(parts)``. When every figure is in at most two groups and
the groups can be oriented so that each figure flows *out of* one and *into*
the other (a figure in one group comes from, or goes to, a ground node; a
figure in none is a loop on the ground), the sums are exactly flow
conservation at the groups, and the tables that satisfy them are the
circulations of a directed graph (:func:`arcs_of`; anything else is refused
with :class:`NotANetwork`). Cross tables with their margins, nested subtotals
and the counts answer all are such networks, once sums that follow from the
others are left out.

**What a reader knows.** A figure shown exactly is fixed; ``<T`` says 1 to
T-1; ``suppressed`` says at least T (zeros are always shown and 1 to T-1 is
always ``<T``, so a withheld figure is T or more); a figure never published
(*hidden*: e.g. how many grants were on appeal) says at least 0. The engine
works from one table that fits all of that — the true published figures, and
for hidden ones any values that fit the sums (the caller's): the argument
below needs two tables that publish the same answer, neither need be the
true one.

**Protected.** A withheld figure is protected when the published answer fits
two tables that differ in it. In a network (its matrix is totally unimodular)
that is so exactly when there is a cycle through the figure's arc along which
every withheld arc can move by one within what the reader knows, and no shown
arc moves (a cycle of the *residual graph*): another table then differs from
the true one by one on that cycle and publishes the same. Without such a
cycle the figure has one possible value (the difference of two tables is a
circulation, which splits into residual cycles). :func:`protected` searches
for it; per figure it is one graph search, fast for tables of hundreds of
cells.

**Choosing what else to hide** (secondary suppression). While some withheld
figure is unprotected, find the cheapest cycle through it that is a residual
cycle once some shown figures are withheld, and withhold those: cost is
first how many figures, then how many of them are totals, then their sum
(:func:`_cheapest_cycle`, Dijkstra on that graph). Then drop every secondary
figure, most costly first, whose withholding no longer matters (each left is
needed: showing it would reveal some withheld figure). Greedy: the fewest in
that sense, not the global minimum (an NP-hard problem).

If even that cannot protect a figure (a tiny table, e.g. 1 + 1 = 2 with
T = 3), every figure of the table is withheld, zeros and small ones alike:
then a reader knows only the sums, and doubling every figure fits them too.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count

GROUND = -1
SHOWN, PRIMARY, SECONDARY, HIDDEN, WITHHELD = (
    "shown",
    "primary",
    "secondary",
    "hidden",
    "withheld",
)

Cost = tuple[int, int, int]
Graph = dict[int, list[tuple[int, str]]]


@dataclass(frozen=True)
class Group:
    """``whole`` is the sum of ``parts``: all figure names."""

    whole: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Arc:
    """A figure as an arc of the network: its flow goes from group ``tail``
    to group ``head`` (``GROUND`` outside every group)."""

    tail: int
    head: int


class NotANetwork(ValueError):
    """The groups are not flow conservation of any orientation."""


def arcs_of(names: Iterable[str], groups: Sequence[Group]) -> dict[str, Arc]:
    """Every figure as an arc: oriented so that each group (a node) has its
    whole on one side and its parts on the other."""
    roles: dict[str, list[tuple[int, bool]]] = {name: [] for name in names}
    for index, group in enumerate(groups):
        for name, whole in [(group.whole, True), *((p, False) for p in group.parts)]:
            roles.setdefault(name, []).append((index, whole))
    flipped = _orient(len(groups), roles)
    arcs: dict[str, Arc] = {}
    for name, where in roles.items():
        ends = [(g, whole != flipped[g]) for g, whole in where]  # (group, enters)
        into = [g for g, enters in ends if enters] or [GROUND]
        out = [g for g, enters in ends if not enters] or [GROUND]
        arcs[name] = Arc(tail=out[0], head=into[0])
    return arcs


def _orient(size: int, roles: Mapping[str, list[tuple[int, bool]]]) -> list[bool]:
    """Per group whether it is flipped (parts flow in, the whole out): a
    two-colouring, since a figure must enter one of its groups and leave the
    other."""
    links: dict[int, list[tuple[int, bool]]] = {g: [] for g in range(size)}
    for name, where in roles.items():
        if len(where) > 2 or len({g for g, _ in where}) < len(where):
            raise NotANetwork(f"{name} is in more than two sums, or twice in one")
        if len(where) == 2:
            (g1, whole1), (g2, whole2) = where
            same = whole1 != whole2  # whole of one, part of the other
            links[g1].append((g2, same))
            links[g2].append((g1, same))
    flipped: dict[int, bool] = {}
    for start in range(size):
        if start in flipped:
            continue
        flipped[start] = False
        queue = deque([start])
        while queue:
            g = queue.popleft()
            for other, same in links[g]:
                want = flipped[g] if same else not flipped[g]
                if other not in flipped:
                    flipped[other] = want
                    queue.append(other)
                elif flipped[other] != want:
                    raise NotANetwork("the sums cannot be oriented as a network")
    return [flipped[g] for g in range(size)]


@dataclass
class Table:
    """A table being protected: its arcs, the true value of each published
    figure (of a hidden one: any value that fits the sums), each figure's
    status, and the threshold."""

    arcs: dict[str, Arc]
    values: dict[str, int]
    status: dict[str, str]
    threshold: int
    totals: Collection[str]

    def bounds(self, name: str) -> tuple[int, int | None]:
        """What a reader knows of a withheld figure: lowest, highest."""
        if self.status[name] == PRIMARY:
            return 1, self.threshold - 1
        if self.status[name] == SECONDARY:
            return self.threshold, None
        return 0, None

    def withheld(self) -> list[str]:
        return [n for n, s in self.status.items() if s in (PRIMARY, SECONDARY)]

    def cost(self, name: str) -> Cost:
        return 1, int(name in self.totals), self.values[name]


def residual(table: Table) -> Graph:
    """The moves of one unit each withheld or hidden figure allows."""
    graph: Graph = {}
    for name, arc in table.arcs.items():
        if table.status[name] == SHOWN:
            continue
        low, high = table.bounds(name)
        value = table.values[name]
        if high is None or value < high:
            graph.setdefault(arc.tail, []).append((arc.head, name))
        if value > low:
            graph.setdefault(arc.head, []).append((arc.tail, name))
    return graph


def protected(table: Table, name: str, graph: Graph) -> bool:
    """Whether a residual cycle runs through ``name`` (see the docstring)."""
    arc, value = table.arcs[name], table.values[name]
    low, high = table.bounds(name)
    up, down = high is None or value < high, value > low
    if arc.tail == arc.head:  # in no sum: only its own bounds hold it
        return up or down
    return (up and _reaches(graph, arc.head, arc.tail, name)) or (
        down and _reaches(graph, arc.tail, arc.head, name)
    )


def _reaches(graph: Graph, start: int, goal: int, skip: str) -> bool:
    seen, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for nxt, name in graph.get(node, ()):
            if name != skip and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def unprotected(table: Table) -> list[str]:
    graph = residual(table)
    return [n for n in table.withheld() if not protected(table, n, graph)]


def _cheapest_cycle(table: Table, name: str) -> list[str] | None:
    """The shown figures to withhold, fewest first, so that ``name`` lies on
    a residual cycle; ``None`` when no choice does."""
    graph = residual(table)
    for other, arc in table.arcs.items():
        if table.status[other] == SHOWN and table.values[other] >= table.threshold:
            graph.setdefault(arc.tail, []).append((arc.head, other))
            if table.values[other] > table.threshold:
                graph.setdefault(arc.head, []).append((arc.tail, other))
    arc, value = table.arcs[name], table.values[name]
    low, high = table.bounds(name)
    paths = []
    if high is None or value < high:
        paths.append(_dijkstra(table, graph, arc.head, arc.tail, name))
    if value > low:
        paths.append(_dijkstra(table, graph, arc.tail, arc.head, name))
    found = [p for p in paths if p is not None]
    return min(found)[1] if found else None


def _dijkstra(
    table: Table, graph: Graph, start: int, goal: int, skip: str
) -> tuple[Cost, list[str]] | None:
    tie = count()
    queue: list[tuple[Cost, int, int, list[str]]] = [((0, 0, 0), next(tie), start, [])]
    done: set[int] = set()
    while queue:
        cost, _, node, opened = heapq.heappop(queue)
        if node == goal:
            return cost, opened
        if node in done:
            continue
        done.add(node)
        for nxt, name in graph.get(node, ()):
            if name == skip or nxt in done:
                continue
            step: Cost = (0, 0, 0)
            more = opened
            if table.status[name] == SHOWN:
                step, more = table.cost(name), [*opened, name]
            total = (cost[0] + step[0], cost[1] + step[1], cost[2] + step[2])
            heapq.heappush(queue, (total, next(tie), nxt, more))
    return None


def protect(
    values: Mapping[str, int],
    groups: Sequence[Group],
    threshold: int,
    hidden: Mapping[str, int] | None = None,
    totals: Collection[str] = (),
) -> dict[str, str]:
    """Each published figure's status: ``shown``, ``primary`` (1 to
    ``threshold`` - 1), ``secondary`` (withheld to protect others) or, when
    nothing less protects, ``withheld`` for all of them. ``hidden`` figures
    are never published; their values need only fit the sums."""
    hidden = dict(hidden or {})
    arcs = arcs_of([*values, *hidden], groups)
    if unknown := sorted(arcs.keys() - values.keys() - hidden.keys()):
        raise ValueError(f"the sums name figures with no value: {unknown}")
    status = {n: PRIMARY if 1 <= v < threshold else SHOWN for n, v in values.items()}
    table = Table(
        arcs,
        {**values, **hidden},
        status | dict.fromkeys(hidden, HIDDEN),
        threshold,
        totals,
    )
    while exposed := unprotected(table):
        opened = _cheapest_cycle(table, exposed[0])
        if not opened:  # None: nothing protects it ([] cannot happen: a sure stop)
            return dict.fromkeys(values, WITHHELD)
        table.status.update(dict.fromkeys(opened, SECONDARY))
    secondary = [n for n, s in table.status.items() if s == SECONDARY]
    for name in sorted(secondary, key=table.cost, reverse=True):
        table.status[name] = SHOWN
        if unprotected(table):
            table.status[name] = SECONDARY
    return {name: table.status[name] for name in values}
