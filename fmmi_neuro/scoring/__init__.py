"""Scoring: which region groups, and their information scores as tidy DataFrames."""
