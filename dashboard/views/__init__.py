"""Dashboard pages, one module each; every page renders user text as text, never HTML."""
