"""Reporting: brain maps, statistics figures and a self-contained HTML report."""
