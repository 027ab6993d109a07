"""JSON documents as trees, for the property and fuzz tests."""

from __future__ import annotations


def paths(node, prefix=()):
    """The path (keys and indices) of every value of a JSON document, the root's () first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, prefix + (i,))
