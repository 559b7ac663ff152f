"""Lessons: se (the page is a function in app/lesson_pages.py)."""

from app.lesson_pages import se

se()
