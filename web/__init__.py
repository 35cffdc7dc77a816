"""huiju's HTTP server: the app factory, health endpoints and JSON errors."""
