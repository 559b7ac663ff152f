"""Lessons: inverted_residual (the page is a function in app/lesson_pages.py)."""

from app.lesson_pages import inverted_residual

inverted_residual()
