"""Connected components by union-find: the plain-Python twin of splink's clustering.

The pipeline clusters with splink (:func:`crmledger.fusion.match.cluster`); this module is
the independent implementation the tests hold it against, and what groups records that
belong together for reasons outside the model (one book party owning them)::

    >>> components(5, [(0, 1), (3, 4), (1, 0)])
    [0, 0, 2, 3, 3]

A node's component is named by its smallest member, so two correct implementations give
identical lists.
"""

from __future__ import annotations

from collections.abc import Iterable


class UnionFind:
    """Disjoint sets over ``0 .. size-1`` with path halving and union by size."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.size = [1] * size

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]


def components(size: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """For each node, the smallest node of its connected component."""
    sets = UnionFind(size)
    for a, b in edges:
        sets.union(a, b)
    smallest: dict[int, int] = {}
    for node in range(size):
        root = sets.find(node)
        smallest.setdefault(root, node)  # nodes ascend, so the first seen is the smallest
    return [smallest[sets.find(node)] for node in range(size)]
