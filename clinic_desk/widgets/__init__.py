"""Reusable Textual widgets (each carries its own DEFAULT_CSS)."""
