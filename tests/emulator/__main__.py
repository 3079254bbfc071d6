"""Run the emulator in the foreground: PYTHONPATH=tests python -m emulator

Environment: EMULATOR_PORT (8787), EMULATOR_TOKEN (an API token it accepts), EMULATOR_STATE (a YAML
or JSON seed file; default: the demo zone example.com), EMULATOR_DELAY (seconds per status step; 3),
EMULATOR_EDGE_PORT (when set, the TLS edge listens there on 127.0.0.1; unset: no edge),
EMULATOR_TRUSTED_ROOTS (a PEM bundle of roots to trust besides its own CA: uploads must chain to one),
EMULATOR_DEFAULT_PRIORITY (of a new zone custom certificate; 20), EMULATOR_JOURNAL_BODIES (0: the journal keeps
no answer bodies, as Emulator(journal_bodies=False); 1).
"""

from __future__ import annotations

import os

from .server import DEFAULT_TOKEN, Emulator


def main() -> None:
    port = int(os.environ.get("EMULATOR_PORT", "8787"))
    edge_port = int(os.environ["EMULATOR_EDGE_PORT"]) if os.environ.get("EMULATOR_EDGE_PORT") else None
    emu = Emulator(
        seed=os.environ.get("EMULATOR_STATE") or "demo",
        delay=float(os.environ.get("EMULATOR_DELAY", "3")),
        token=os.environ.get("EMULATOR_TOKEN") or DEFAULT_TOKEN,
        journal_bodies=os.environ.get("EMULATOR_JOURNAL_BODIES", "1") != "0",
        verbose=True,
    )
    base = "http://127.0.0.1:%d" % port
    print("Cloudflare API emulator on %s/client/v4 (admin API: %s/__emulator/)" % (base, base))
    print("API token: %s   read-only token: %s" % (emu.token, emu.readonly_token))
    print("Global API key: X-Auth-Email %s, X-Auth-Key %s" % (emu.api_email, emu.api_key))
    print("Origin CA key (Origin CA operations only): X-Auth-User-Service-Key %s" % emu.service_key)
    for zone in emu.state.zones.values():
        print("zone %s id %s" % (zone.name, zone.id))
    if edge_port is not None:
        print("TLS edge on 127.0.0.1:%d (SNI picks the hostname; CA: %s/edge)" % (edge_port, base + "/__emulator"))
    print("status steps last %.1f s; Ctrl-C stops" % emu.delay, flush=True)
    try:
        emu.serve_forever(port, edge_port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
