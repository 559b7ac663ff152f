"""Design lab: edit a generation's block table live; counts, graph and charts follow; invalid
edits are explained and the last valid architecture stays on screen."""

from app.screens.lab import lab_page

lab_page()
