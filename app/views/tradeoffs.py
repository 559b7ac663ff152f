"""Trade-off explorer: alpha x resolution sweeps with exact counts, measured latency on this
machine, published top-1 where it exists, and the Pareto front."""

from app.screens.tradeoffs import tradeoffs_page

tradeoffs_page()
