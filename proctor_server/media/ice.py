"""ICE servers from the command line: `serve --ice-server URL`, repeatable.

    stun:stun.example.org:3478
    turn:USER:PASSWORD@turn.example.org:3478?transport=udp
    turns:USER:PASSWORD@turn.example.org:5349

The user name and password of a TURN server are taken out of the URL and sent separately, as
the browser's `RTCIceServer` and aiortc's want them."""

from __future__ import annotations

from shared import protocol as p
from shared.errors import ConfigError

SCHEMES = ("stun", "stuns", "turn", "turns")


def parse_ice_server(text: str) -> p.IceServer:
    """One `--ice-server` value; ConfigError with the reason when it is not usable."""
    value = text.strip()
    scheme, sep, rest = value.partition(":")
    if not sep or scheme.lower() not in SCHEMES or not rest:
        raise ConfigError(
            f"--ice-server {text!r}: give stun:HOST[:PORT] or turn:USER:PASSWORD@HOST[:PORT]"
        )
    scheme = scheme.lower()
    username: str | None = None
    credential: str | None = None
    if "@" in rest:
        auth, rest = rest.rsplit("@", 1)
        username, colon, credential = auth.partition(":")
        if not colon or not username:
            raise ConfigError(f"--ice-server {text!r}: write the credentials as USER:PASSWORD@")
    if not rest or rest.startswith(("/", ":")):
        raise ConfigError(f"--ice-server {text!r} names no host")
    if scheme.startswith("turn") and username is None:
        raise ConfigError(f"--ice-server {text!r}: a TURN server needs USER:PASSWORD@")
    return p.IceServer(urls=[f"{scheme}:{rest}"], username=username, credential=credential)
