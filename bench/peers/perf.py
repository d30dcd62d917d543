"""The classic articles' perf.py: one connection, strictly sequential round trips (send a line, read the reply line,
repeat), bounded in count and in time. Prints one JSON line: round trips, seconds, round trips per second.

usage: /usr/bin/python3 perf.py HOST PORT [SECONDS] [MAX_COUNT] [LINE]
"""
import json
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
max_count = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000_000
line = (sys.argv[5] if len(sys.argv) > 5 else "1").encode() + b"\n"

sock = socket.create_connection((host, port), timeout=10)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
reader = sock.makefile("rb")
count = 0
errors = 0
start = time.perf_counter()
deadline = start + seconds
while count < max_count:
    sock.sendall(line)
    reply = reader.readline()
    if not reply:
        errors += 1
        break
    if reply.startswith(b"[Error]"):
        errors += 1
    count += 1
    if count % 64 == 0 and time.perf_counter() >= deadline:
        break
took = time.perf_counter() - start
sock.close()
print(json.dumps({"count": count, "errors": errors, "seconds": took, "perSecond": count / took if took > 0 else 0}))
