"""The HTTP surface: status pages, read API, health and metrics."""
