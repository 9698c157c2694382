"""Shared core of the pipeline: settings (environment + pipeline.yml) and the warehouse layout."""
