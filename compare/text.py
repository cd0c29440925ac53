"""Wording shared by the messages, tables and figures: counts with the noun in the right number."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``"1 event"``, ``"2 events"``, ``"0 events"``; ``nouns`` for an irregular plural."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
