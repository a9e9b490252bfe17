"""Feedback to the enterprise on one checked file: the highlighted copy and the printed report."""
