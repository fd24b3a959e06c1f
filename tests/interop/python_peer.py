"""Python `websockets` as the other end of sockweave's interop tests.

    python_peer.py client URL SMALL_URL [--ca FILE] [--deflate]
        Runs the client checks against a sockweave echo server at URL (which
        accepts the subprotocol `chat`) and SMALL_URL (the same server with
        --max-message 1024). Exits 1 with the failed check on stderr. With
        --deflate, offers permessage-deflate and checks it was negotiated.

    python_peer.py server PORT [--cert FILE --key FILE] [--deflate]
        An echo server for sockweave's interop_client: selects `chat` when
        offered (and nothing otherwise), answers the text `close:CODE:REASON`
        by closing with that code and reason. With --deflate, accepts
        permessage-deflate offers.
"""

import argparse
import asyncio
import ssl
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def compression(args):
    return "deflate" if args.deflate else None


def client_tls(args):
    if not args.ca:
        return None
    context = ssl.create_default_context(cafile=args.ca)
    return context


async def echo(ws, message):
    await ws.send(message)
    back = await ws.recv()
    check(back == message, f"{describe(message)} came back as {describe(back)}")


def describe(message):
    kind = "text" if isinstance(message, str) else "binary"
    if len(message) <= 40:
        return f"{kind} {message!r}"
    return f"{kind} of {len(message)} bytes"


async def messages(args):
    tls = client_tls(args)
    async with connect(args.url, subprotocols=["chat", "superchat"], max_size=None,
                       ssl=tls, ping_interval=None, compression=compression(args)) as ws:
        check(ws.subprotocol == "chat", f"selected {ws.subprotocol!r}, expected chat")
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        check(("permessage-deflate" in extensions) == args.deflate,
              f"extensions {extensions!r} with --deflate {args.deflate}")
        big = bytes(i % 251 for i in range(16 << 20))
        for message in ["hello", "κόσμε, 𝄞 and 🎉: two-, three- and four-byte UTF-8",
                        "", b"", bytes(range(256)), big]:
            await echo(ws, message)
        # An iterable is sent as one fragmented message.
        await ws.send(["frag", "𝄞", "mented"])
        back = await ws.recv()
        check(back == "frag𝄞mented", f"fragmented text came back as {back!r}")
        await ws.send([b"\x00\x01", b"", b"\xfe\xff"])
        back = await ws.recv()
        check(back == b"\x00\x01\xfe\xff", f"fragmented binary came back as {back!r}")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        await ws.close(4001, "client says bye 𝄞")
    check(ws.close_code == 4001, f"our close came back with {ws.close_code}")


async def no_common_protocol(args):
    async with connect(args.url, subprotocols=["other"], ssl=client_tls(args),
                       compression=compression(args)) as ws:
        check(ws.subprotocol is None, f"server picked {ws.subprotocol!r} from [other]")
        await echo(ws, "still works")


async def server_closes(args):
    async with connect(args.small_url, ssl=client_tls(args),
                       compression=compression(args)) as ws:
        await ws.send("x" * 2000)
        try:
            await ws.recv()
            raise CheckFailed("a message over the server's limit was echoed")
        except ConnectionClosed as closed:
            received = closed.rcvd
            check(received is not None and received.code == 1009 and received.reason,
                  f"server's close arrived as {received!r}")


async def run_client(args):
    for name, case in [("messages", messages), ("no common protocol", no_common_protocol),
                       ("server-initiated close", server_closes)]:
        try:
            await asyncio.wait_for(case(args), 60)
        except Exception as e:
            raise CheckFailed(f"{name}: {type(e).__name__}: {e}") from e


def select_subprotocol(connection, subprotocols):
    return "chat" if "chat" in subprotocols else None


async def handler(ws):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("close:"):
                _, code, reason = message.split(":", 2)
                await ws.close(int(code), reason)
                return
            await ws.send(message)
    except ConnectionClosed:
        pass  # a close with a code other than 1000/1001 ends the loop this way


async def run_server(args):
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    async with serve(handler, "127.0.0.1", args.port, subprotocols=["chat"],
                     select_subprotocol=select_subprotocol, max_size=None, ssl=tls,
                     ping_interval=None, compression=compression(args)) as server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    client = sub.add_parser("client")
    client.add_argument("url")
    client.add_argument("small_url")
    client.add_argument("--ca")
    client.add_argument("--deflate", action="store_true")
    server = sub.add_parser("server")
    server.add_argument("port", type=int)
    server.add_argument("--cert")
    server.add_argument("--key")
    server.add_argument("--deflate", action="store_true")
    args = parser.parse_args()
    if args.mode == "client":
        try:
            asyncio.run(run_client(args))
        except CheckFailed as e:
            print(f"python client: {e}", file=sys.stderr)
            sys.exit(1)
    else:
        asyncio.run(run_server(args))


if __name__ == "__main__":
    main()
