"""The generic API channel (an "API inbox"): any system can push appeals as signed JSON.

Protocol: docs/channels/api.md and docs/openapi/api-channel.yaml.
"""

from connectors.api.connector import ApiConnector

__all__ = ["ApiConnector"]
