"""Roofline: why depthwise convolutions cost more time than their MACs suggest, on this CPU."""

from app.screens.roofline import roofline_page

roofline_page()
