"""Batch runs over cohorts: resumable jobs, run logs, local processes or a Dask cluster."""
