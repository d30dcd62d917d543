#!/usr/bin/env python3
"""Calls fib-service's `fib.compute` through its TCP event-bus bridge and prints F(n).

Standard library only. Start the service with the bridge on (it is off by default), from the project's directory:
    make run ARGS="--bridge-port 7000"
then
    python3 examples/python/fib_client.py --port 7000 50            # prints 12586269025
    python3 examples/python/fib_client.py --port 7000 --json 30 iterative
(examples/python/README.md; ExamplesIT runs its commands.)

Frames are a 4-byte big-endian length, then that many bytes of UTF-8 JSON (the vertx-tcp-eventbus-bridge
protocol). Exit codes: 0 answered, 1 the service answered with an error, 2 could not talk to the bridge.
"""
import argparse
import json
import socket
import struct
import sys
import uuid


def send_frame(sock, message):
    data = json.dumps(message).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def read_exactly(sock, size):
    chunks = []
    while size > 0:
        chunk = sock.recv(size)
        if not chunk:
            raise ConnectionError("the bridge closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(sock):
    (length,) = struct.unpack(">I", read_exactly(sock, 4))
    return json.loads(read_exactly(sock, length).decode("utf-8"))


def compute(host, port, n, algorithm=None, timeout=35.0):
    """Returns the reply body of fib.compute, or raises RuntimeError with the service's error."""
    body = {"n": n}
    if algorithm:
        body["algorithm"] = algorithm
    reply_address = "py-" + uuid.uuid4().hex
    request_id = uuid.uuid4().hex  # lets this connection cancel it: publish fib.cancel {"id": ...}
    with socket.create_connection((host, port), timeout=timeout) as sock:
        send_frame(sock, {"type": "send", "address": "fib.compute", "replyAddress": reply_address,
                          "headers": {"x-request-id": request_id}, "body": body})
        while True:
            frame = read_frame(sock)
            if frame.get("type") == "message" and frame.get("address") == reply_address:
                return frame["body"]
            if frame.get("type") == "err":
                raise RuntimeError("%s: %s" % (frame.get("failureCode", "bridge"), frame.get("message")))


def main():
    parser = argparse.ArgumentParser(description="F(n) from fib-service over the TCP event-bus bridge")
    parser.add_argument("n", type=int)
    parser.add_argument("algorithm", nargs="?", choices=["doubling", "iterative", "recursive"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("--json", action="store_true", help="print the whole reply, not just the value")
    args = parser.parse_args()
    try:
        reply = compute(args.host, args.port, args.n, args.algorithm)
    except RuntimeError as e:
        print("fib_client: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print("fib_client: cannot talk to the bridge at %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 2
    print(json.dumps(reply) if args.json else reply["value"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
