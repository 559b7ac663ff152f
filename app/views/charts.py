"""Per-block charts: params, MACs, cumulative shares, resolution/channel profile, memory."""

from app.screens.charts import charts_page

charts_page()
