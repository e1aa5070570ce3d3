"""The domain: plain synchronous functions, ``(actor, arguments) -> dataclasses``, one transaction each.

Never imports Textual, Typer or Rich.
"""
