"""Sync with the 12345 platform: the outbox of messages owed to it, and replies carried back to channels."""
