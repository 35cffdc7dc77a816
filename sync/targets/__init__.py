"""The systems huiju pushes cases to: the 12345 platform (`platform12345`) and Open311 servers (`open311`)."""

from __future__ import annotations

from core.config import PlatformSettings
from core.http import HttpClient
from sync.targets.base import Target


def make_target(settings: PlatformSettings, http: HttpClient) -> Target:
    """The target named by [platform] kind."""
    if settings.kind == "open311":
        from sync.targets.open311 import Open311

        return Open311(settings, http)
    from sync.targets.platform12345 import Platform12345

    return Platform12345(settings, http)
