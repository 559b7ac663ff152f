"""Diff: two configurations block by block, aligned by output stride."""

from app.screens.diff import diff_page

diff_page()
