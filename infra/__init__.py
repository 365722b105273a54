"""Infrastructure: settings, event-store wiring, database connections."""
