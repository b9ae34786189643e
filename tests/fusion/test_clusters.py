"""Clustering: union-find agrees with networkx's connected components on random graphs,
and splink's clustering agrees with both."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from crmledger.fusion.clusters import components
from crmledger.fusion.match import cluster


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    size = draw(st.integers(min_value=0, max_value=60))
    if size == 0:
        return 0, []
    node = st.integers(min_value=0, max_value=size - 1)
    edges = draw(st.lists(st.tuples(node, node), max_size=size * 2))
    return size, edges


def _reference(size: int, edges: list[tuple[int, int]]) -> list[int]:
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(range(size))
    graph.add_edges_from(edges)
    smallest = {}
    for part in nx.connected_components(graph):
        low = min(part)
        smallest.update(dict.fromkeys(part, low))
    return [smallest[n] for n in range(size)]


@given(graphs())
@settings(max_examples=300, deadline=None)
def test_union_find_equals_networkx(graph: tuple[int, list[tuple[int, int]]]) -> None:
    size, edges = graph
    assert components(size, edges) == _reference(size, edges)


@given(graphs())
@settings(max_examples=15, deadline=None)
def test_splink_clustering_equals_union_find(graph: tuple[int, list[tuple[int, int]]]) -> None:
    size, edges = graph
    assert cluster(size, edges) == components(size, edges)


def test_a_chain_and_singletons() -> None:
    assert components(6, [(4, 5), (0, 4), (2, 2)]) == [0, 1, 2, 3, 0, 0]
