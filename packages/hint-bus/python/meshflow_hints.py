#!/usr/bin/python3
"""A meshflow hint subscriber in Python: the example for sidecars not written in TypeScript.

Subscribes to hint kinds on an MQTT broker, checks each message the way the TypeScript SDK
does (Ed25519 signature when keys are trusted, JSON, kind and version, the shipped JSON
Schema, what a schema cannot say, the topic), drops hints older than their TTL, and prints
one JSON line per happening: ready, hint (with a typed summary), invalid, stale, expired.

Debian: apt-get install python3-paho-mqtt python3-jsonschema python3-cryptography
Run:    python3 meshflow_hints.py --broker mqtt://127.0.0.1:1883 --kind link_state --kind cost_row
"""
from __future__ import annotations

import argparse
import base64
import json
import pathlib
import re
import ssl
import sys
import threading
import time
from typing import Any, Callable, Literal, Optional, TypedDict, Union
from urllib.parse import unquote, urlparse

import jsonschema
import paho.mqtt.client as mqtt

ROOT = "meshflow/v1/"
KINDS = ("link_state", "event", "cost_row", "weights", "sidecar_status", "controller_status")
VERSIONS = {"link_state": 2, "event": 1, "cost_row": 2, "weights": 1, "sidecar_status": 1, "controller_status": 1}
FILTERS = {
    "link_state": ROOT + "links/+",
    "event": ROOT + "events",
    "cost_row": ROOT + "costs/+",
    "weights": ROOT + "sidecars/+/weights",
    "sidecar_status": ROOT + "sidecars/+/status",
    "controller_status": ROOT + "controllers/+/status",
}
SIG = re.compile(r'^,"sig":\{"key":"([A-Za-z0-9._-]+)","ed25519":"([A-Za-z0-9+/]+={0,2})"\}\}$')
Level = Literal["ok", "warning", "congested", "down"]


# The hint types (the JSON Schemas in ../schemas are the contract; these name their fields).
class Endpoint(TypedDict):
    dpid: str
    port: int


class Envelope(TypedDict):
    v: int
    kind: str
    ts: int
    seq: int
    ttlMs: int
    source: str


class LinkState(Envelope, total=False):
    linkId: str
    src: Endpoint
    dst: Endpoint
    capacityBps: float
    rateBps: float
    utilization: float
    drops: float
    level: Level
    queueDelayMs: float


class Event(Envelope, total=False):
    event: str
    linkId: str
    dpid: str
    level: Level
    detail: dict[str, Any]


class CostRow(Envelope, total=False):
    srcPid: str
    costs: dict[str, list[Any]]


class Weights(Envelope, total=False):
    sidecarId: str
    services: dict[str, dict[str, float]]
    replicas: dict[str, dict[str, Any]]


class SidecarStatus(Envelope, total=False):
    sidecarId: str
    state: Literal["online", "offline"]


class ControllerStatus(Envelope, total=False):
    controllerId: str
    state: Literal["online", "offline"]
    apiUrl: str


Hint = Union[LinkState, Event, CostRow, Weights, SidecarStatus, ControllerStatus]


def summary(h: Hint) -> str:
    """One typed line per kind, as a sidecar would act on it."""
    k = h["kind"]
    if k == "link_state":
        ls: LinkState = h  # type: ignore[assignment]
        return f"link {ls['linkId']}: {ls['level']}, utilization {ls['utilization']:.2f}"
    if k == "event":
        ev: Event = h  # type: ignore[assignment]
        return f"event {ev['event']} {ev.get('linkId', ev.get('dpid', ''))}".rstrip()
    if k == "cost_row":
        row: CostRow = h  # type: ignore[assignment]
        c = row["costs"]
        entries = ", ".join(f"{d} {lvl} {avail:.0f} bit/s" for d, lvl, avail in zip(c["dstPid"], c["level"], c["availableBps"]))
        return f"costs from {row['srcPid']}: {entries}"
    if k == "weights":
        w: Weights = h  # type: ignore[assignment]
        return f"weights for {w['sidecarId']}: " + "; ".join(f"{s} {r}" for s, r in w["services"].items())
    if k == "sidecar_status":
        st: SidecarStatus = h  # type: ignore[assignment]
        return f"sidecar {st['sidecarId']} {st['state']}"
    cs: ControllerStatus = h  # type: ignore[assignment]
    return f"controller {cs['controllerId']} {cs['state']}"


class Invalid(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def topic_of(h: Hint) -> str:
    k = h["kind"]
    ids = {"link_state": "linkId", "cost_row": "srcPid", "weights": "sidecarId", "sidecar_status": "sidecarId", "controller_status": "controllerId"}
    return FILTERS[k].replace("+", str(h.get(ids.get(k, ""), ""))) if k != "event" else FILTERS[k]


class Decoder:
    def __init__(self, schema_dir: pathlib.Path, keys: dict[str, Any], require_signature: bool) -> None:
        self.validators = {}
        for k in KINDS:
            schema = json.loads((schema_dir / f"{k}.schema.json").read_text())
            self.validators[k] = jsonschema.Draft7Validator(schema)
        self.keys = keys
        self.require_signature = require_signature

    def decode(self, topic: str, payload: bytes) -> tuple[Hint, Optional[str]]:
        text = payload.decode("utf-8", errors="replace")
        signer = None
        at = text.rfind(',"sig":')
        m = SIG.match(text[at:]) if at >= 0 else None
        if m is not None:
            text = text[:at] + "}"
        if self.keys:
            if m is None:
                if self.require_signature:
                    raise Invalid("unsigned", "no signature, and only signed hints are trusted")
            else:
                key = self.keys.get(m.group(1))
                if key is None:
                    raise Invalid("untrusted_key", f"signed by {m.group(1)}, which is not trusted")
                try:
                    key.verify(base64.b64decode(m.group(2)), f"{topic}\n{text}".encode("utf-8"))
                except Exception:
                    raise Invalid("bad_signature", f"signature of {m.group(1)} does not verify for {topic}")
                signer = m.group(1)
        try:
            h = json.loads(text)
        except ValueError as e:
            raise Invalid("json", f"not JSON: {e}")
        if not isinstance(h, dict):
            raise Invalid("json", "not a JSON object")
        kind = h.get("kind")
        if kind not in KINDS:
            raise Invalid("kind", f"unknown kind {json.dumps(kind)}")
        if h.get("v") != VERSIONS[kind]:
            raise Invalid("version", f"{kind} version {json.dumps(h.get('v'))} is not spoken here, expected {VERSIONS[kind]}")
        err = jsonschema.exceptions.best_match(self.validators[kind].iter_errors(h))
        if err is not None:
            path = "/" + "/".join(str(p) for p in err.absolute_path)
            raise Invalid("schema", f"{path} {err.message}")
        if kind == "cost_row":
            n = len(h["costs"]["dstPid"])
            for col, values in h["costs"].items():
                if len(values) != n:
                    raise Invalid("mismatch", f"/costs/{col}: {len(values)} elements for {n} destinations")
        if kind == "link_state":
            named = f"{h['src']['dpid']}:{h['src']['port']}-{h['dst']['dpid']}:{h['dst']['port']}"
            if h["linkId"] != named:
                raise Invalid("mismatch", f"/linkId: {h['linkId']} does not name src/dst ({named})")
        if topic_of(h) != topic:  # type: ignore[arg-type]
            raise Invalid("topic", f"a {kind} hint does not belong on {topic}")
        return h, signer  # type: ignore[return-value]


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


class Subscriber:
    """Delivers fresh hints; says when the latest hint of a topic outlives its TTL."""

    def __init__(self, decoder: Decoder, on_line: Callable[[dict[str, Any]], None] = emit) -> None:
        self.decoder = decoder
        self.on_line = on_line
        self.timers: dict[str, threading.Timer] = {}
        self.lock = threading.Lock()

    def message(self, topic: str, payload: bytes) -> None:
        if not payload:
            return  # a retained hint being cleared
        try:
            h, signer = self.decoder.decode(topic, payload)
        except Invalid as e:
            self.on_line({"event": "invalid", "topic": topic, "reason": e.reason, "message": str(e)})
            return
        now = time.time() * 1000
        if h["ts"] + h["ttlMs"] < now:
            self.on_line({"event": "stale", "topic": topic, "kind": h["kind"], "ts": h["ts"]})
            return
        if h["kind"] != "event":
            with self.lock:
                old = self.timers.pop(topic, None)
                if old is not None:
                    old.cancel()
                t = threading.Timer((h["ts"] + h["ttlMs"] + 1 - now) / 1000, self.expire, (topic, h))
                t.daemon = True
                self.timers[topic] = t
                t.start()
        self.on_line({"event": "hint", "kind": h["kind"], "topic": topic, "signer": signer, "summary": summary(h), "hint": h})

    def expire(self, topic: str, h: Hint) -> None:
        with self.lock:
            self.timers.pop(topic, None)
        self.on_line({"event": "expired", "topic": topic, "kind": h["kind"], "seq": h["seq"]})


def load_keys(specs: list[str]) -> dict[str, Any]:
    if not specs:
        return {}
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    keys = {}
    for spec in specs:
        key_id, _, path = spec.partition("=")
        if not key_id or not path:
            raise SystemExit(f"--trust expects <id>=<public key PEM>, got {spec!r}")
        keys[key_id] = load_pem_public_key(pathlib.Path(path).read_bytes())
    return keys


def main() -> None:
    here = pathlib.Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--broker", action="append", required=True, help="mqtt:// or mqtts:// URL; repeat for fallbacks")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--ca", help="CA certificate (PEM) for mqtts://")
    p.add_argument("--kind", action="append", choices=KINDS, help="hint kinds (default: all)")
    p.add_argument("--schemas", default=str(here.parent / "schemas"), help="directory of <kind>.schema.json")
    p.add_argument("--trust", action="append", default=[], help="<key id>=<Ed25519 public key PEM>: accept only hints it signed")
    p.add_argument("--allow-unsigned", action="store_true", help="with --trust: accept unsigned hints too")
    a = p.parse_args()

    sub = Subscriber(Decoder(pathlib.Path(a.schemas), load_keys(a.trust), not a.allow_unsigned))
    filters = [FILTERS[k] for k in (a.kind or KINDS)]
    client = mqtt.Client(protocol=mqtt.MQTTv311)
    urls = [urlparse(u) for u in a.broker]
    user = a.username or (unquote(urls[0].username) if urls[0].username else None)
    password = a.password or (unquote(urls[0].password) if urls[0].password else None)
    if user is not None:
        client.username_pw_set(user, password)
    if any(u.scheme in ("mqtts", "ssl") for u in urls):
        client.tls_set(ca_certs=a.ca, cert_reqs=ssl.CERT_REQUIRED)

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, rc: int) -> None:
        if rc != 0:
            emit({"event": "refused", "message": mqtt.connack_string(rc)})
            c.disconnect()
            return
        c.subscribe([(f, 1) for f in filters])

    client.on_connect = on_connect
    client.on_subscribe = lambda _c, _u, _mid, _q: emit({"event": "ready", "filters": filters})
    client.on_message = lambda _c, _u, msg: sub.message(msg.topic, msg.payload)
    for u in urls:  # the first broker that answers
        try:
            client.connect(u.hostname or "127.0.0.1", u.port or (8883 if u.scheme in ("mqtts", "ssl") else 1883))
            break
        except OSError as e:
            emit({"event": "unreachable", "broker": f"{u.hostname}:{u.port}", "message": str(e)})
    else:
        sys.exit(1)
    try:
        client.loop_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
