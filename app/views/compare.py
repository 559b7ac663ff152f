"""Compare two to four configurations; published configurations on a MACs / top-1 scatter."""

from app.screens.compare import compare_page

compare_page()
