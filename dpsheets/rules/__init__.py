"""What the entries mean: problems as data, the checks, findings, risk grading, hazard state, statistics."""
