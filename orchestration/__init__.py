"""Dagster only: assets, checks, jobs and resources that call the plain-Python packages."""
