"""Overview: exact totals, deltas, the MAC convention, published figures, the block table."""

from app.screens.overview import overview_page

overview_page()
