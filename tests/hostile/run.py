#!/usr/bin/env python3
"""Hostile peers against our echo servers, each case asserting a bound.

usage: tests/hostile/run.py [SERVER...]
  SERVER  mio-example, serve-mio, serve-tokio, serve-std, tokio-example,
          std-example (default: all). Built with `cargo build --release`.

Cases, run against a fresh server each:
  flood-unread  a peer sends 64 MiB of 1 KiB messages and never reads the
                echoes: the server holds at most its queue (32 MiB in the
                examples, 2 x the message limit for `serve`) plus socket
                buffers; no echo is lost (the peer then reads every one).
  ping-unread   a peer sends 32 MiB of pings and never reads the pongs:
                growth stays under 8 MiB.
  tiny-flood    one peer writes 6-byte frames as fast as it can for 2 s
                while another does echo round trips: the other's slowest
                round trip stays under 500 ms, its median under 10 ms
                (a single-threaded loop that let the flooder take more
                than its turn measured 23 ms), and the server's growth
                under 64 MiB.
  resets        2,000 connections each stop in the middle of a frame; half
                are reset, half closed: the server's open descriptors go
                back to where they were.
  trickle       (`serve` only, with --message-timeout 1) a 1 MiB frame
                announced and sent a byte every 200 ms: closed with 1008
                within 2.5 s.
Exit status 1 if any bound is missed.
"""
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")
PORT = int(os.environ.get("HOSTILE_PORT", "9451"))
MIB = 1 << 20

SERVERS = {
    "mio-example": ([os.path.join(RELEASE, "examples", "mio_echo_server")], 32 * MIB),
    "tokio-example": ([os.path.join(RELEASE, "examples", "tokio_echo_server")], 32 * MIB),
    "std-example": ([os.path.join(RELEASE, "examples", "std_echo_server")], 32 * MIB),
    # `serve` queues up to twice its message limit (16 MiB by default).
    "serve-mio": ([os.path.join(RELEASE, "sockweave"), "serve", "--adapter", "mio"], 32 * MIB),
    "serve-tokio": ([os.path.join(RELEASE, "sockweave"), "serve", "--adapter", "tokio"], 32 * MIB),
    "serve-std": ([os.path.join(RELEASE, "sockweave"), "serve", "--adapter", "std"], 32 * MIB),
}


def frame(opcode, payload):
    """A masked client frame (key 0, so the payload goes as it is)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


def connect():
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    # The server says nothing after its 101 until we send: reading ahead
    # cannot take a frame.
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("handshake: connection closed")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake: {head[:40]!r}")
    return sock


def read_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise RuntimeError("connection closed")
        out += chunk
    return bytes(out)


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", read_exact(sock, 2))
    elif n == 127:
        (n,) = struct.unpack("!Q", read_exact(sock, 8))
    return b0 & 0x0F, read_exact(sock, n)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Server:
    def __init__(self, command):
        self.proc = subprocess.Popen(
            command + [f"127.0.0.1:{PORT}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{command[0]} did not start")
                time.sleep(0.05)
        time.sleep(0.2)
        self.base = rss(self.proc.pid)

    def growth(self):
        return rss(self.proc.pid) - self.base

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def send_until_blocked(sock, data, seconds):
    """Sends `data` until it is all gone, nothing was taken for a second
    (the server stopped reading us: that is the backpressure), or
    `seconds` pass."""
    sock.settimeout(0.2)
    view = memoryview(data)
    deadline = time.time() + seconds
    progress = time.time()
    while view and time.time() < deadline and time.time() - progress < 1:
        try:
            view = view[sock.send(view):]
            progress = time.time()
        except socket.timeout:
            pass
    return len(data) - len(view)


def flood_unread(server, queue):
    sock = connect()
    message = bytes(range(256)) * 4
    count = 64 * 1024
    data = frame(0x2, message) * count
    sent = send_until_blocked(sock, data, 10)
    time.sleep(0.5)
    peak = server.growth()
    # Now read every echo of the whole frames the server took, in order.
    whole = sent // len(frame(0x2, message))
    sock.settimeout(10)
    for _ in range(whole):
        opcode, payload = read_frame(sock)
        if opcode != 0x2 or payload != message:
            return False, f"echo {_} was wrong (opcode {opcode}, {len(payload)} bytes)"
    sock.close()
    bound = queue + 16 * MIB
    ok = peak <= bound
    return ok, f"sent {sent / MIB:.1f} MiB unread, grew {peak / MIB:.1f} MiB (bound {bound / MIB:.0f}), {whole} echoes read back"


def ping_unread(server, _queue):
    sock = connect()
    data = frame(0x9, b"p" * 125) * (32 * MIB // 131)
    sent = send_until_blocked(sock, data, 10)
    time.sleep(0.5)
    peak = server.growth()
    sock.close()
    bound = 8 * MIB
    return peak <= bound, f"sent {sent / MIB:.1f} MiB of pings unread, grew {peak / MIB:.1f} MiB (bound 8)"


def flood(seconds):
    """The flooding peer, in its own process (so it does not share an
    interpreter lock with the peer that measures): 6-byte frames as fast as
    it can write, echoes read and thrown away on a second thread."""
    sock = connect()
    sock.settimeout(0.2)
    stop = time.time() + seconds

    def drain():
        while time.time() < stop:
            try:
                if not sock.recv(1 << 20):
                    return
            except socket.timeout:
                pass
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    chunk = frame(0x2, b"") * 10000
    view = memoryview(b"")
    while time.time() < stop:
        try:
            view = view or memoryview(chunk)
            view = view[sock.send(view):]
        except socket.timeout:
            pass
        except OSError:
            return
    sock.close()


def tiny_flood(server, _queue):
    flooder = subprocess.Popen([sys.executable, __file__, "--flood", "2.5"])
    time.sleep(0.3)
    other = connect()
    other.settimeout(5)
    rtts = []
    peak = 0
    end = time.time() + 2
    while time.time() < end:
        start = time.perf_counter()
        other.sendall(frame(0x1, b"ping?"))
        opcode, payload = read_frame(other)
        rtts.append(time.perf_counter() - start)
        if opcode != 0x1 or payload != b"ping?":
            return False, "wrong echo"
        peak = max(peak, server.growth())
        time.sleep(0.01)
    other.close()
    flooder.wait(10)
    worst, median = max(rtts), statistics.median(rtts)
    ok = worst < 0.5 and median < 0.01 and peak < 64 * MIB
    return ok, (
        f"other peer: {len(rtts)} round trips, median {median * 1e3:.1f} ms, slowest "
        f"{worst * 1e3:.0f} ms (bounds 10 ms, 500 ms); grew {peak / MIB:.1f} MiB (bound 64)"
    )


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def resets(server, _queue):
    base = open_fds(server.proc.pid)
    socks = []
    # Each announces a 1 MiB frame and sends 100 bytes of it.
    partial = struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 20) + b"\0\0\0\0" + b"x" * 100
    for _ in range(2000):
        sock = connect()
        sock.sendall(partial)
        socks.append(sock)
    time.sleep(0.5)
    held = open_fds(server.proc.pid) - base
    for i, sock in enumerate(socks):
        if i % 2 == 0:
            # SO_LINGER 0: close sends a reset.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    deadline = time.time() + 10
    while time.time() < deadline and open_fds(server.proc.pid) > base:
        time.sleep(0.05)
    left = open_fds(server.proc.pid) - base
    ok = held >= 2000 and left <= 0
    return ok, f"2,000 connections mid-frame held {held} fds; after 1,000 resets and 1,000 closes, {left} left"


def trickle(server, _queue):
    sock = connect()
    sock.settimeout(5)
    # A 1 MiB frame announced, then one byte every 200 ms.
    sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 20) + b"\0\0\0\0")
    start = time.time()
    sock.settimeout(0.2)
    while True:
        try:
            opcode, payload = read_frame(sock)
            break
        except socket.timeout:
            if time.time() - start > 5:
                return False, "still held after 5 s"
            sock.sendall(b"x")
    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    held = time.time() - start
    sock.close()
    ok = opcode == 0x8 and code == 1008 and held < 2.5
    return ok, f"closed with {code} after {held:.1f} s of a trickled frame (message timeout 1 s)"


# (name, case, extra arguments: cases with some run against `serve` only)
CASES = [
    ("flood-unread", flood_unread, []),
    ("ping-unread", ping_unread, []),
    ("tiny-flood", tiny_flood, []),
    ("resets", resets, []),
    ("trickle", trickle, ["--message-timeout", "1"]),
]


def main():
    if sys.argv[1:2] == ["--flood"]:
        return flood(float(sys.argv[2]))
    names = sys.argv[1:] or list(SERVERS)
    failed = False
    for name in names:
        command, queue = SERVERS[name]
        for case, run, extra in CASES:
            if extra and not name.startswith("serve-"):
                continue
            server = Server(command + extra)
            try:
                ok, detail = run(server, queue)
            except Exception as e:  # a hostile case must not crash the run
                ok, detail = False, f"{type(e).__name__}: {e}"
            finally:
                server.stop()
            print(f"{'ok  ' if ok else 'FAIL'} {name} {case}: {detail}", flush=True)
            failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
