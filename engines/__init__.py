"""Ready tracing engines, clients of the public core API only."""
