#!/usr/bin/env python3
"""Fault-injecting HTTP proxy between an AWS SDK client and moto (test setup only).

The client reaches it exactly as it reaches moto, through AWS_ENDPOINT_URL; the proxy forwards
every call to moto (--upstream) and, seeded and reproducibly, on some of them:

- throttle: answers at once, without forwarding, with the protocol's throttling error
  (JSON protocols: HTTP 400 {"__type":"ThrottlingException"}; query: HTTP 400
  <ErrorResponse>..<Code>Throttling</Code>; EC2: HTTP 503 RequestLimitExceeded; S3: HTTP 503
  SlowDown; Route 53: HTTP 400 <ErrorResponse>..Throttling; other REST-JSON: HTTP 429
  ThrottlingException). Every code is in the Rust SDK's THROTTLING_ERRORS
  (aws-runtime retries/classifiers.rs), so it is retried as a throttling error.
- error_5xx: answers at once, without forwarding, with HTTP 500 InternalFailure (S3:
  InternalError) or 503 ServiceUnavailable, which the SDK's HttpStatusCodeClassifier retries.
- drop: forwards the call (moto acts on it), then closes the client's connection without a
  response. The SDK sees hyper's IncompleteMessage, a transient error, and retries a call that
  has already taken effect.

Protocol detection: an X-Amz-Target header means a JSON protocol (1.0/1.1, content type of
the request); a form-encoded body (or query string) with Action= means the query protocol;
anything else is REST (S3 and Route 53 have their own error forms). The service is the
SigV4 signing name of the Authorization header's credential scope.

A fault is a pure function of the seed and the call: sha256(seed, service, action, attempt,
method, path, body, n) where n counts earlier identical calls. The same requests get the same
faults whatever the interleaving of concurrent calls. `attempt` is the SDK's
`amz-sdk-request: attempt=N; max=M` header, which also lets the proxy count the retries it
sees, and the calls whose last allowed attempt got a fault (`exhausted`: the client gave up
after max attempts) or whose fault was not followed by a retry (`abandoned`: the client gave
up earlier, e.g. its retry quota was empty, or the process was killed).

Control endpoints, never forwarded: GET /__faults/stats (the figures as JSON), POST
/__faults/config (JSON with any of seed, throttle, error_5xx, drop: new rates from now on),
POST /__faults/reset (zero the figures). moto's own /moto-api/ is forwarded without faults or
counting. On SIGTERM or SIGINT the proxy writes the figures to --stats-file (if given) and to
stdout, then exits.

Options (each also from the environment): --seed (FAULT_SEED, default 1), --throttle
(FAULT_THROTTLE), --error-5xx (FAULT_5XX), --drop (FAULT_DROP) as fractions of calls in [0, 1],
--port (0 = a free one), --port-file, --stats-file (FAULT_STATS_FILE), --log (FAULT_LOG: one
JSON line per injected fault and per error moto answered).

Stdlib only; runs with the moto venv's python (or any python 3.9+).
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict

KINDS = ("throttle", "error_5xx", "drop")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
}
# The query protocol services whose errors are wrapped like EC2's (<Response><Errors>).
EC2_STYLE = {"ec2"}
# What the SDK's throttling classifier knows (aws-runtime THROTTLING_ERRORS), per protocol form.
JSON_THROTTLE = "ThrottlingException"
QUERY_THROTTLE = "Throttling"


def env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


class Call:
    """What one request is: protocol, service, action, attempt."""

    __slots__ = ("protocol", "service", "action", "attempt", "max_attempts", "invocation", "json_type")

    def __init__(self, method, path, headers, body):
        target = headers.get("x-amz-target")
        auth = headers.get("authorization", "")
        parsed = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.service = signing_name(auth, query) or ""
        self.json_type = None
        if target:
            self.protocol = "json"
            prefix, _, op = target.rpartition(".")
            self.action = op or target
            if not self.service:
                self.service = prefix.lower()
            ctype = headers.get("content-type", "")
            self.json_type = ctype if ctype.startswith("application/x-amz-json") else "application/x-amz-json-1.1"
        else:
            action = None
            ctype = headers.get("content-type", "")
            if "x-www-form-urlencoded" in ctype or body.startswith(b"Action="):
                try:
                    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                    action = (form.get("Action") or [None])[0]
                except ValueError:
                    action = None
            if action is None and "Action" in query:
                action = query["Action"][0]
            if action is not None:
                self.protocol = "query"
                self.action = action
            else:
                self.protocol = "rest"
                self.action = rest_action(self.service, method, parsed.path, query)
        attempt, max_attempts = 1, None
        request = headers.get("amz-sdk-request", "")
        for part in request.split(";"):
            key, _, value = part.strip().partition("=")
            if key == "attempt" and value.isdigit():
                attempt = int(value)
            elif key == "max" and value.isdigit():
                max_attempts = int(value)
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.invocation = headers.get("amz-sdk-invocation-id")

    @property
    def label(self):
        return f"{self.service or '?'}:{self.action}"


def signing_name(auth, query):
    """The service of the SigV4 credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request."""
    scope = None
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    elif "X-Amz-Credential" in query:
        scope = query["X-Amz-Credential"][0]
    if not scope:
        return None
    parts = scope.strip().split("/")
    return parts[3] if len(parts) >= 5 else None


def rest_action(service, method, path, query):
    """A readable name for a REST call: S3 by bucket/object and subresource, others by path shape."""
    segments = [s for s in path.split("/") if s]
    subresources = sorted(k for k in query if not k.lower().startswith("x-amz-"))
    if service == "s3":
        kind = "Object" if len(segments) > 1 else ("Bucket" if segments else "Service")
        sub = "".join(f"?{k}" for k in subresources if k in S3_SUBRESOURCES)
        return f"{method}{kind}{sub}"
    # Route 53 and the rest: the path with ids replaced (/2013-04-01/hostedzone/Z123/rrset).
    shape = []
    for i, seg in enumerate(segments):
        if i > 0 and (any(c.isdigit() for c in seg) and not seg[:4].isdigit() or len(seg) > 24):
            shape.append("{id}")
        else:
            shape.append(seg)
    return f"{method} /{'/'.join(shape)}"


S3_SUBRESOURCES = {
    "acl", "cors", "delete", "encryption", "lifecycle", "location", "notification", "ownershipControls",
    "partNumber", "policy", "publicAccessBlock", "tagging", "uploadId", "uploads", "versioning", "versions",
    "list-type", "website",
}


def request_id():
    return str(uuid.uuid4())


def fault_response(call, kind, variant, method):
    """(status, headers, body) of an injected error in the protocol of `call`."""
    rid = request_id()
    if kind == "throttle":
        code, message, status = None, "Rate exceeded", 400
    elif variant == 0:
        code, message, status = "InternalFailure", "We encountered an internal error. Please try again.", 500
    else:
        code, message, status = "ServiceUnavailable", "Service is unavailable. Please try again.", 503
    if call.protocol == "json":
        code = code or JSON_THROTTLE
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, {"Content-Type": call.json_type, "x-amzn-RequestId": rid}, body
    if call.protocol == "query":
        if call.service in EC2_STYLE:
            if kind == "throttle":
                code, message, status = "RequestLimitExceeded", "Request limit exceeded.", 503
            elif code == "InternalFailure":
                code = "InternalError"
            else:
                code = "Unavailable"
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{rid}</RequestID></Response>"
            ).encode()
        else:
            code = code or QUERY_THROTTLE
            side = "Sender" if kind == "throttle" else "Receiver"
            body = (
                f"<ErrorResponse><Error><Type>{side}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{rid}</RequestId></ErrorResponse>"
            ).encode()
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body
    if call.service == "s3":
        if kind == "throttle":
            code, message, status = "SlowDown", "Please reduce your request rate.", 503
        elif code == "InternalFailure":
            code = "InternalError"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{rid}</RequestId>"
            f"<HostId>{rid}</HostId></Error>"
        ).encode()
        headers = {"Content-Type": "application/xml", "x-amz-request-id": rid, "x-amz-id-2": rid}
        return status, headers, b"" if method == "HEAD" else body
    if call.service == "route53":
        code = code or QUERY_THROTTLE
        side = "Sender" if kind == "throttle" else "Receiver"
        body = (
            '<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
            f"<Error><Type>{side}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, b"" if method == "HEAD" else body
    # REST-JSON (Lambda, API Gateway, ...): the code in x-amzn-ErrorType; throttling is 429.
    if kind == "throttle":
        code, status = JSON_THROTTLE, 429
    body = json.dumps({"message": message}).encode()
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": rid, "x-amzn-ErrorType": code}
    return status, headers, b"" if method == "HEAD" else body


def upstream_error_code(status, headers, body):
    """The error code of an error moto returned (for the figures), or the status."""
    etype = headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType")
    if etype:
        return etype.split(":")[0].split("#")[-1]
    text = body[:4096].decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(body)
            code = doc.get("__type") or doc.get("code") or doc.get("Code")
            if code:
                return str(code).split("#")[-1]
        except ValueError:
            pass
    start = text.find("<Code>")
    if start >= 0:
        end = text.find("</Code>", start)
        if end > start:
            return text[start + 6 : end]
    return f"HTTP{status}"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.started = time.time()
        self.calls = 0
        self.forwarded = 0
        self.faults = {k: 0 for k in KINDS}
        self.retries_seen = 0
        self.exhausted = 0
        self.upstream_errors = 0
        self.proxy_errors = 0
        self.by_action = defaultdict(self._action)
        # invocation id -> (last attempt seen, whether it got a fault, its max, label)
        self.invocations = {}

    @staticmethod
    def _action():
        return {"calls": 0, "retries": 0, **{k: 0 for k in KINDS}, "exhausted": 0, "upstream_errors": {}}

    def snapshot(self, config):
        with self.lock:
            abandoned = 0
            abandoned_by_action = defaultdict(int)
            for attempt, faulted, max_attempts, label in self.invocations.values():
                if faulted and (max_attempts is None or attempt < max_attempts):
                    abandoned += 1
                    abandoned_by_action[label] += 1
            by_action = {}
            for label, a in sorted(self.by_action.items()):
                entry = dict(a)
                entry["upstream_errors"] = dict(a["upstream_errors"])
                if abandoned_by_action.get(label):
                    entry["abandoned"] = abandoned_by_action[label]
                by_action[label] = entry
            return {
                "seed": config.seed,
                "rates": {k: getattr(config, k) for k in KINDS},
                "elapsed_seconds": round(time.time() - self.started, 3),
                "calls": self.calls,
                "forwarded": self.forwarded,
                "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()),
                "retries_seen": self.retries_seen,
                "exhausted": self.exhausted,
                "abandoned": abandoned,
                "upstream_errors": self.upstream_errors,
                "proxy_errors": self.proxy_errors,
                "by_action": by_action,
            }


class Config:
    def __init__(self, seed, throttle, error_5xx, drop):
        self.seed = str(seed)
        self.throttle = throttle
        self.error_5xx = error_5xx
        self.drop = drop
        self.lock = threading.Lock()
        self.seen = defaultdict(int)

    def decide(self, call, method, path, body):
        """(kind or None, variant): a pure function of the seed and the call's identity."""
        digest = hashlib.sha256(body).hexdigest()
        ident = f"{call.service}|{call.action}|{call.attempt}|{method}|{path}|{digest}"
        with self.lock:
            n = self.seen[ident]
            self.seen[ident] = n + 1
            seed, rates = self.seed, (self.throttle, self.error_5xx, self.drop)
        h = hashlib.sha256(f"{seed}|{ident}|{n}".encode()).digest()
        u = int.from_bytes(h[:8], "big") / 2**64
        variant = h[8] & 1
        edge = 0.0
        for kind, rate in zip(KINDS, rates):
            edge += rate
            if u < edge:
                return kind, variant
        return None, variant


class Proxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, upstream, config, stats, log):
        super().__init__(addr, Handler)
        up = urllib.parse.urlsplit(upstream)
        self.upstream_host = up.hostname
        self.upstream_port = up.port or 80
        self.config = config
        self.stats = stats
        self.log_file = log
        self.log_lock = threading.Lock()

    def log_event(self, event):
        if self.log_file is None:
            return
        event["t"] = round(time.time(), 3)
        with self.log_lock:
            self.log_file.write(json.dumps(event) + "\n")
            self.log_file.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout):
            # The client went away (it timed out, or was killed): nothing to answer.
            self.close_connection = True

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_any(self):
        body = self.read_body()
        srv = self.server
        path = self.path
        if path.startswith("/__faults/"):
            return self.control(path, body)
        if path.startswith("/moto-api"):
            return self.forward_and_reply(body, None)
        headers = {k.lower(): v for k, v in self.headers.items()}
        call = Call(self.command, path, headers, body)
        kind, variant = srv.config.decide(call, self.command, path, body)
        stats = srv.stats
        label = call.label
        with stats.lock:
            stats.calls += 1
            entry = stats.by_action[label]
            entry["calls"] += 1
            if call.attempt > 1:
                stats.retries_seen += 1
                entry["retries"] += 1
            if kind:
                stats.faults[kind] += 1
                entry[kind] += 1
                if call.max_attempts is not None and call.attempt >= call.max_attempts:
                    stats.exhausted += 1
                    entry["exhausted"] += 1
            if call.invocation:
                stats.invocations[call.invocation] = (call.attempt, bool(kind), call.max_attempts, label)
        if kind:
            srv.log_event(
                {"fault": kind, "call": label, "attempt": call.attempt, "max": call.max_attempts,
                 "invocation": call.invocation}
            )
        if kind in ("throttle", "error_5xx"):
            status, hdrs, payload = fault_response(call, kind, variant, self.command)
            return self.reply(status, hdrs, payload)
        return self.forward_and_reply(body, call, drop=kind == "drop")

    def forward_and_reply(self, body, call, drop=False):
        srv = self.server
        conn = http.client.HTTPConnection(srv.upstream_host, srv.upstream_port, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers.pop("Content-Length", None)
            headers["Content-Length"] = str(len(body))
            headers["Connection"] = "close"
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            status = resp.status
            resp_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        except (OSError, http.client.HTTPException) as e:
            with srv.stats.lock:
                srv.stats.proxy_errors += 1
            srv.log_event({"proxy_error": str(e), "call": call.label if call else self.path})
            msg = json.dumps({"__type": "ProxyUpstreamError", "message": str(e)}).encode()
            return self.reply(502, {"Content-Type": "application/json"}, msg)
        finally:
            conn.close()
        if call is not None:
            with srv.stats.lock:
                srv.stats.forwarded += 1
                if status >= 400:
                    code = upstream_error_code(status, dict((k.lower(), v) for k, v in resp_headers), payload)
                    srv.stats.upstream_errors += 1
                    errors = srv.stats.by_action[call.label]["upstream_errors"]
                    errors[code] = errors.get(code, 0) + 1
                    srv.log_event(
                        {"upstream_error": code, "status": status, "call": call.label, "attempt": call.attempt,
                         "invocation": call.invocation, "after_drop": False}
                    )
        if drop:
            # moto has acted; the client never hears of it.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        keep_length = self.command == "HEAD"
        if not keep_length:
            resp_headers = [(k, v) for k, v in resp_headers if k.lower() != "content-length"]
        return self.reply(status, resp_headers, payload, keep_length)

    def reply(self, status, headers, payload, keep_length=False):
        self.send_response_only(status)
        items = headers.items() if isinstance(headers, dict) else headers
        for k, v in items:
            if keep_length or k.lower() != "content-length":
                self.send_header(k, v)
        if not keep_length:
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()

    def control(self, path, body):
        srv = self.server
        route = path.split("?", 1)[0]
        if route == "/__faults/stats":
            doc = srv.stats.snapshot(srv.config)
        elif route == "/__faults/config" and self.command == "POST":
            try:
                update = json.loads(body or b"{}")
                with srv.config.lock:
                    for key in KINDS:
                        if key in update:
                            setattr(srv.config, key, float(update[key]))
                    if "seed" in update:
                        srv.config.seed = str(update["seed"])
            except (ValueError, TypeError) as e:
                return self.reply(400, {"Content-Type": "application/json"}, json.dumps({"error": str(e)}).encode())
            doc = {"seed": srv.config.seed, "rates": {k: getattr(srv.config, k) for k in KINDS}}
        elif route == "/__faults/reset" and self.command == "POST":
            with srv.stats.lock:
                srv.stats.reset()
            doc = {"reset": True}
        else:
            return self.reply(404, {"Content-Type": "application/json"}, b'{"error":"no such control endpoint"}')
        self.reply(200, {"Content-Type": "application/json"}, json.dumps(doc, indent=1).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_any


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="moto's endpoint, e.g. http://127.0.0.1:5000")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    p.add_argument("--port-file", help="write the bound port to this file")
    p.add_argument("--seed", default=os.environ.get("FAULT_SEED", "1"))
    p.add_argument("--throttle", type=float, default=env_float("FAULT_THROTTLE", 0.0))
    p.add_argument("--error-5xx", type=float, default=env_float("FAULT_5XX", 0.0))
    p.add_argument("--drop", type=float, default=env_float("FAULT_DROP", 0.0))
    p.add_argument("--stats-file", default=os.environ.get("FAULT_STATS_FILE"))
    p.add_argument("--log", default=os.environ.get("FAULT_LOG"))
    args = p.parse_args()
    for name in ("throttle", "error_5xx", "drop"):
        rate = getattr(args, name)
        if not 0.0 <= rate <= 1.0:
            p.error(f"--{name.replace('_', '-')} {rate} is not a fraction in [0, 1]")
    if args.throttle + args.error_5xx + args.drop > 1.0:
        p.error("the rates add up to more than 1")

    config = Config(args.seed, args.throttle, args.error_5xx, args.drop)
    stats = Stats()
    log = open(args.log, "a", buffering=1) if args.log else None
    server = Proxy(("127.0.0.1", args.port), args.upstream, config, stats, log)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(
        f"fault proxy on http://127.0.0.1:{port} -> {args.upstream} seed={config.seed} "
        f"throttle={args.throttle} error_5xx={args.error_5xx} drop={args.drop} pid={os.getpid()}",
        file=sys.stderr,
        flush=True,
    )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    doc = json.dumps(stats.snapshot(config), indent=1)
    if args.stats_file:
        tmp = f"{args.stats_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(doc + "\n")
        os.replace(tmp, args.stats_file)
    print(doc, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
