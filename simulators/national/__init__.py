"""Simulators of the three national hotline platforms, sharing one engine and one control API."""
