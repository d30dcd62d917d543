"""The classic articles' database server: asyncio HTTP on one thread, a new aiomysql connection for every request,
SELECT 1, the answer as JSON. Keep-alive HTTP/1.1 (the connection per request is the database's).

usage: /usr/bin/python3 db_server.py PORT DB_HOST DB_PORT DB_USER DB_PASSWORD_FILE DB_NAME
"""
import asyncio
import json
import sys

import aiomysql

port = int(sys.argv[1])
db = dict(host=sys.argv[2], port=int(sys.argv[3]), user=sys.argv[4], db=sys.argv[6])
with open(sys.argv[5]) as f:
    db["password"] = f.read().strip()


async def select_one():
    conn = await aiomysql.connect(**db)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1")
            (value,) = await cur.fetchone()
            return value
    finally:
        conn.close()


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            try:
                body = json.dumps({"value": await select_one()}).encode()
                status = b"200 OK"
            except Exception as e:  # the database refused: say so, as a 503
                body = json.dumps({"error": str(e)}).encode()
                status = b"503 Service Unavailable"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print("listening", port, flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
