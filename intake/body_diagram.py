"""The body diagram of the pain-location question: simple rounded shapes, a back view and a front view.

Each area of `intake.definitions.BODY_AREAS` has at least one shape; an area seen from both sides (a thigh,
say) has one on each view and both toggle the same checkbox. "Left" and "right" are the patient's own: on the
back view their left is on the viewer's left, on the front view it is on the viewer's right.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEWBOX = "0 0 340 428"
CENTRES = {"back": 85, "front": 255}


@dataclass(frozen=True)
class Shape:
    # None for outline shapes (head, arms, front of the trunk) that are not a choice.
    area: str | None
    view: str
    x: float
    y: float
    width: float
    height: float
    radius: float = 6


def _shape(area: str | None, view: str, left: float, right: float, top: float, bottom: float, radius=6) -> Shape:
    """A shape given by its edges relative to the figure's midline (negative = viewer's left)."""
    centre = CENTRES[view]
    return Shape(area, view, centre + left, top, right - left, bottom - top, radius)


def _sided(name: str, view: str, inner: float, outer: float, top: float, bottom: float, radius=6) -> list[Shape]:
    """The patient's left and right shape of ``name`` (e.g. thigh), each on its correct side of the view."""
    # Back view: the patient's left is the viewer's left. Front view: the viewer's right.
    left_sign = -1 if view == "back" else 1
    shapes = []
    for side, sign in (("left", left_sign), ("right", -left_sign)):
        edges = sorted((sign * inner, sign * outer))
        shapes.append(_shape(f"{name}_{side}", view, edges[0], edges[1], top, bottom, radius))
    return shapes


def _legs(view: str) -> list[Shape]:
    return [
        *_sided("thigh", view, 3, 32, 224, 300, 10),
        *_sided("knee", view, 5, 30, 302, 326, 10),
        *_sided("lower_leg", view, 6, 28, 328, 386, 8),
        *_sided("foot", view, 4 if view == "front" else 6, 32 if view == "front" else 28, 388, 404, 6),
    ]


def _outline(view: str) -> list[Shape]:
    return [
        _shape(None, view, -20, 20, 6, 46, 20),  # head
        _shape(None, view, -58, -42, 66, 196, 8),  # arm
        _shape(None, view, 42, 58, 66, 196, 8),  # arm
    ]


def _back() -> list[Shape]:
    return [
        *_outline("back"),
        _shape("neck", "back", -9, 9, 46, 62, 4),
        _shape("upper_back", "back", -38, 38, 62, 108, 12),
        _shape("middle_back", "back", -35, 35, 110, 142, 6),
        *_sided("lower_back", "back", 12, 34, 144, 178, 6),
        _shape("lower_back_centre", "back", -11, 11, 144, 178, 4),
        *_sided("buttock", "back", 1, 36, 180, 222, 16),
        *_legs("back"),
    ]


def _front() -> list[Shape]:
    return [
        *_outline("front"),
        _shape(None, "front", -38, 38, 62, 188, 12),  # chest and belly
        _shape("neck", "front", -9, 9, 46, 62, 4),
        *_sided("hip", "front", 15, 38, 180, 222, 10),
        _shape("groin", "front", -14, 14, 190, 222, 8),
        *_legs("front"),
    ]


SHAPES: tuple[Shape, ...] = (*_back(), *_front())

# Side markers under each figure (the HTML caption says they are the patient's own left and right).
SIDE_LABELS: tuple[tuple[float, str], ...] = (
    (CENTRES["back"] - 45, "L"),
    (CENTRES["back"] + 45, "R"),
    (CENTRES["front"] - 45, "R"),
    (CENTRES["front"] + 45, "L"),
)
VIEW_LABELS: tuple[tuple[float, str], ...] = ((CENTRES["back"], "Back"), (CENTRES["front"], "Front"))


def body_diagram(*, areas: tuple[str, ...], selected: list[str] | tuple[str, ...] = ()) -> dict:
    """What the template needs to draw the diagram for a question offering ``areas``, with ``selected`` shaded.

    Shapes of areas the question does not offer are drawn as outline, so the figure stays whole.
    """
    offered, chosen = set(areas), set(selected or ())
    shapes = []
    for shape in SHAPES:
        area = shape.area if shape.area in offered else None
        shapes.append({"shape": shape, "area": area, "selected": area is not None and area in chosen})
    return {"viewbox": VIEWBOX, "shapes": shapes, "side_labels": SIDE_LABELS, "view_labels": VIEW_LABELS}
