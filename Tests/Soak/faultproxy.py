#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy for the soak that cuts requests mid-body.

It forwards bytes between crsync and crsync-devserver unchanged. On the way up it follows the HTTP framing
(a head, then Content-Length bytes of body; crsync's libcurl always sends a length, never chunked bodies),
so it knows where each request's body is. While faults are on, each request with a body is cut with
probability --rate: part of its body is forwarded, then both sides are closed, as a dying network or a
reverse proxy timing out would. Cuts are counted.

Only loopback: it listens on 127.0.0.1 and connects to 127.0.0.1:--upstream-port.
SIGUSR1 turns faults on, SIGUSR2 turns them off (they start off, so `crsync login` goes through).
The counters are written as JSON to --stats after every change and on exit.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--upstream-port", type=int, required=True)
parser.add_argument("--rate", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--stats", required=True)
parser.add_argument("--port-file", required=True, help="where the listening port is written once bound")
args = parser.parse_args()

rng = random.Random(args.seed)
faults_on = False
stats = {"connections": 0, "requests": 0, "requests_with_body": 0, "cuts": 0, "upstream_refused": 0}


def save_stats():
    tmp = args.stats + ".tmp"
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.replace(tmp, args.stats)


async def pump_down(reader, writer):
    """Server to client: bytes as they come."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def read_head(reader):
    """One request head, or None at a clean end of the connection."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise ConnectionError("request head too large")


def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise ConnectionError("chunked request bodies are not supported by the soak proxy")
    return 0


async def handle(client_reader, client_writer):
    stats["connections"] += 1
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", args.upstream_port)
    except OSError:
        # The server is restarting: the client sees a connection closed with no answer.
        stats["upstream_refused"] += 1
        save_stats()
        client_writer.close()
        return
    down = asyncio.ensure_future(pump_down(up_reader, client_writer))
    try:
        while True:
            head = await read_head(client_reader)
            if head is None:
                break
            stats["requests"] += 1
            length = content_length(head)
            cut_at = None
            if length > 0:
                stats["requests_with_body"] += 1
                if faults_on and rng.random() < args.rate:
                    cut_at = rng.randrange(0, length)  # 0 .. length-1 bytes of the body get through
            up_writer.write(head)
            remaining = length
            sent = 0
            while remaining > 0:
                want = min(remaining, 65536)
                if cut_at is not None:
                    want = min(want, cut_at - sent)
                    if want == 0:
                        break
                data = await client_reader.read(want)
                if not data:
                    raise ConnectionError("client closed mid-body")
                up_writer.write(data)
                await up_writer.drain()
                remaining -= len(data)
                sent += len(data)
            await up_writer.drain()
            if cut_at is not None:
                stats["cuts"] += 1
                save_stats()
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        for w in (up_writer, client_writer):
            try:
                w.close()
            except Exception:
                pass
        down.cancel()


def set_faults(on):
    global faults_on
    faults_on = on
    stats["faults_on"] = on
    save_stats()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, set_faults, True)
    loop.add_signal_handler(signal.SIGUSR2, set_faults, False)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    set_faults(False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, args.port_file)
    await stop
    server.close()
    save_stats()


asyncio.run(main())
sys.exit(0)
