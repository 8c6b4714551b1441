"""The one peak type, and its JSON record (docs/contracts.md, "Peak records")."""

from __future__ import annotations

from dataclasses import dataclass

DIRECTIONS = ("anodic", "cathodic")


@dataclass
class Peak:
    """A peak of a voltammogram, in data space, image space, or both.

    Attributes
    ----------
    direction : {"anodic", "cathodic"}
        Local maximum on an anodic-going sweep, or local minimum on a cathodic-going sweep.
    potential : float or None
        Peak potential in V.
    current : float or None
        Peak current in A, or current density in A/m² when ``quantity == "j"``.
    cycle : int or None
        Cycle number, from 1.
    quantity : {"I", "j"}
        What ``current`` holds.
    x, y : float or None
        Image-space position: fractions of the image width (from the left) and height (from the top).
    index : int or None
        Sample index in the voltammogram it was found on (not part of the record).
    prominence : float or None
        How far the (smoothed) current falls on both sides before rising past the peak again, same unit as
        ``current``, always positive (not part of the record, except in the simulator's truth records).
    """

    direction: str
    potential: float | None = None
    current: float | None = None
    cycle: int | None = None
    quantity: str = "I"
    x: float | None = None
    y: float | None = None
    index: int | None = None
    prominence: float | None = None

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'anodic' or 'cathodic', not {self.direction!r}")

    def to_record(self) -> dict:
        """The JSON record of docs/contracts.md: only the fields this peak has."""
        rec: dict = {}
        if self.potential is not None:
            rec["potential"] = round(float(self.potential), 6)
        if self.current is not None:
            rec["current"] = float(f"{self.current:.6g}")
        rec["direction"] = self.direction
        if self.cycle is not None:
            rec["cycle"] = int(self.cycle)
        if self.quantity == "j" and self.current is not None:
            rec["quantity"] = "j"
        if self.x is not None:
            rec["x"] = round(float(self.x), 5)
        if self.y is not None:
            rec["y"] = round(float(self.y), 5)
        return rec

    @classmethod
    def from_record(cls, rec: dict) -> Peak:
        """Read a peak record; raises ValueError naming what is wrong."""
        if not isinstance(rec, dict):
            raise ValueError(f"a peak record must be an object, not {type(rec).__name__}")
        direction = rec.get("direction")
        if direction not in DIRECTIONS:
            raise ValueError(f"peak record has direction {direction!r}; expected 'anodic' or 'cathodic'")

        def num(key):
            v = rec.get(key)
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"peak record field {key!r} must be a number, not {v!r}")
            return float(v)

        peak = cls(
            direction=direction,
            potential=num("potential"),
            current=num("current"),
            cycle=None if rec.get("cycle") is None else int(rec["cycle"]),
            quantity="j" if rec.get("quantity") == "j" else "I",
            x=num("x"),
            y=num("y"),
            prominence=num("prominence"),
        )
        if peak.potential is None and (peak.x is None or peak.y is None):
            raise ValueError("peak record needs 'potential' or both 'x' and 'y'")
        return peak
