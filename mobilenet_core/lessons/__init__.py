"""The lessons' demonstrations: each idea of the MobileNet papers computed on a real network of
the family (the learner's configuration) and, where it makes sense, on the learner's photo.

One module per lesson (`separable.py`, `se.py`, ...) declares its row, `LESSON = Lesson(...)`,
and holds its demonstration; `blocks.py` holds what they share. Modules are discovered when the
package is imported, as the block types are (mobilenet_core.blocktypes): adding a lesson is adding
one module here (and its page folder, app/lessons/<name>/), with no central list to edit.

Everything here is plain computation (no Streamlit), so it is tested like the rest of the
library. Papers: V1 arXiv:1704.04861, V2 arXiv:1801.04381, V3 arXiv:1905.02244, V4 arXiv:2404.10518.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from ..count import CountReport


@dataclass(frozen=True)
class Lesson:
    name: str  # its module's `__name__`, kept as the last part: the page folder's in app/lessons/
    generation: str  # the generation that introduced the idea
    year: int
    paper: str
    position: int  # its place among the lessons of its year (the navigation's order: year, position)
    needs: Callable[[CountReport], bool] | None = None  # what the model must have (blocks.has_*)
    fallback: str = ""  # the model the lesson uses when the selection has none

    def __post_init__(self):
        # the module passes its __name__, never a literal: a lesson named like a block type (the UIB lesson)
        # would otherwise be a kind string in its source (tests/test_blocktypes.py)
        object.__setattr__(self, "name", self.name.rsplit(".", 1)[-1])

    @property
    def path(self) -> str:
        """The page's URL path ("lesson-inverted-residual")."""
        return "lesson-" + self.name.replace("_", "-")


def _discover() -> tuple[Lesson, ...]:
    """Import every module of the package; collect the LESSON rows and lift every module's own
    public names into the package (`lessons.se_gates`), refusing two different objects under one
    name."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, value in vars(module).items():
            if key.startswith("_") or key == "LESSON" or inspect.ismodule(value):
                continue
            if getattr(value, "__module__", module.__name__) != module.__name__:
                continue  # imported from elsewhere
            if key in globals() and globals()[key] is not value:
                raise ValueError(f"lessons: {key!r} is defined twice ({module.__name__})")
            globals()[key] = value
        lesson = getattr(module, "LESSON", None)
        if lesson is not None:
            if lesson.name != info.name:
                raise ValueError(f"lesson {lesson.name!r} lives in {info.name}.py: name it after its module")
            found.append(lesson)
    return tuple(sorted(found, key=lambda x: (x.year, x.position)))


LESSONS: tuple[Lesson, ...] = _discover()
LESSON_PATHS = ("lessons", *(lesson.path for lesson in LESSONS))  # "lessons": the story page


def lesson_model(path: str, report: CountReport) -> str | None:
    """None when the lesson works on the selected model; else the model it shows instead (the
    selection has no block of the kind, e.g. no SE in V2)."""
    lesson = next(x for x in LESSONS if x.path == path)
    return None if lesson.needs is None or lesson.needs(report) else lesson.fallback
