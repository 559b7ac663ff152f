"""Layer graph: block level by default, one block or every block at layer level."""

from app.screens.graph import graph_page

graph_page()
