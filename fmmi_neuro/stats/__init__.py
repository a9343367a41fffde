"""Statistics: null models that keep BOLD autocorrelation, confidence intervals, group-level tests."""
