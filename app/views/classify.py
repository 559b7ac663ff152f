"""Classify: drag photos in, see the top-5 of the configured model, where it looked, and how long
it took. Pretrained weights where a published checkpoint exists, clearly labelled otherwise."""

from app.screens.classify import classify_page

classify_page()
