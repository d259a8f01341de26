"""Serving a model over HTTP (scripts/serve.py): the FastAPI app, its request and response schemas,
and the guards in front of it.
"""
