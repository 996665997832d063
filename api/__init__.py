"""The open API: a third shell beside the dashboard and the CLI, over the same service calls.

``api.app.create_app(settings)`` builds the FastAPI application; ``brandpulse api`` serves it.
"""
