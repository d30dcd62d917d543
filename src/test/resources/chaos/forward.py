#!/usr/bin/python3
"""A TCP forwarder: listens on HOST:PORT and joins every connection to TO_HOST:TO_PORT, a thread per direction.
The chaos run starts it inside the database's network namespace, where `db` listens on 127.0.0.1 only, so that the
members on the other hosts reach it; a connection the database refuses (it was killed) is closed at once."""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, to):
    try:
        upstream = socket.create_connection(to, timeout=5)
        upstream.settimeout(None)
    except OSError:
        conn.close()
        return
    threading.Thread(target=pump, args=(conn, upstream), daemon=True).start()
    pump(upstream, conn)
    conn.close()
    upstream.close()


def main():
    host, port, to_host, to_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(256)
    print("forwarding %s:%d to %s:%d" % (host, port, to_host, to_port), flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, (to_host, to_port)), daemon=True).start()


if __name__ == "__main__":
    main()
