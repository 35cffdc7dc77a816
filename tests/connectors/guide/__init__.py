"""The small simulator behind docs/connectors.md's worked example."""
