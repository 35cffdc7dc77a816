"""Faithful stand-ins for the systems huiju talks to, served on loopback for the demo, tests and benchmarks."""
