"""Embedded demo: a deterministic LG Inform-shaped catalogue and an HTTP server that serves it.

The credentials below are public on purpose: they only open the local demo server, so the
pipeline can run end to end (and in CI) without a real LG Inform account.
"""

DEMO_APPLICATION_KEY = "demo-application-key"
DEMO_SECRET = "demo-secret-not-for-production"

__all__ = ["DEMO_APPLICATION_KEY", "DEMO_SECRET"]
