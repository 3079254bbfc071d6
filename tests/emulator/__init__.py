"""A Cloudflare v4 API emulator for the certops.cloudflare tests, demo and benchmarks (see README.md)."""

from .server import DEFAULT_EMAIL, DEFAULT_KEY, DEFAULT_READONLY_TOKEN, DEFAULT_TOKEN, Emulator

__all__ = ["Emulator", "DEFAULT_TOKEN", "DEFAULT_READONLY_TOKEN", "DEFAULT_EMAIL", "DEFAULT_KEY"]
