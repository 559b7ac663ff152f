"""The page script st.navigation runs for this lesson (app.lessons.lesson_pages)."""

from app.lessons.fused_ib import show

show()
