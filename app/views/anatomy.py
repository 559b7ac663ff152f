"""Block anatomy: a block of the current model (or of the design lab's edited architecture) drawn
with its real shapes, next to what it replaces, and the papers' cost formulas computed with its
numbers."""

from app.screens.anatomy import anatomy_page

anatomy_page()
