"""Ratings as stars: ★★★★☆ for one review, ★★★★☆ 4.2 (17) for a doctor's average."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STAR = "#e5b700"


def stars(rating: float) -> Text:
    """Five stars, filled to the rounded rating."""
    filled = max(0, min(5, round(rating)))
    return Text("★" * filled, style=STAR) + Text("☆" * (5 - filled), style="dim")


def stars_text(rating: float | None, count: int) -> Text:
    """A doctor's average with the number of reviews it rests on, or "no reviews"."""
    if rating is None or not count:
        return Text("no reviews", style="dim")
    return stars(rating) + Text(f" {rating:.1f}") + Text(f" ({count})", style="dim")


class RatingStars(Static):
    """A rating on screen: ``RatingStars(4.5, 12)`` (an average), ``RatingStars(3)`` (one review)."""

    DEFAULT_CSS = """
    RatingStars { width: auto; }
    """

    def __init__(self, rating: float | None = None, count: int | None = None, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.show(rating, count)

    def show(self, rating: float | None, count: int | None = None) -> None:
        if count is None:
            self.update(stars(rating) if rating is not None else Text(""))
        else:
            self.update(stars_text(rating, count))
