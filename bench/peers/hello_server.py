"""The classic articles' hello server: a socketserver.TCPServer whose handler does one recv, sends the page with
Connection: close and returns (socketserver then closes the connection). One process, one thread.

usage: /usr/bin/python3 hello_server.py PORT PAGE_FILE CONTENT_TYPE
"""
import socketserver
import sys

port = int(sys.argv[1])
with open(sys.argv[2], "rb") as f:
    page = f.read()
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: " + sys.argv[3].encode("latin-1")
            + b"\r\nContent-Length: " + str(len(page)).encode() + b"\r\nConnection: close\r\n\r\n" + page)


class Hello(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(4096)
        self.request.sendall(RESPONSE)


class Server(socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = 4096


with Server(("127.0.0.1", port), Hello) as server:
    print("listening", port, flush=True)
    server.serve_forever()
