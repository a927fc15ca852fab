#!/usr/bin/env python3
"""When each Lambda request reached the loopback interface, by the kernel's clock, not by a thread of a loaded JVM.

  wire-arrivals.py record FILE         records until killed (needs root: a raw socket on lo)
  wire-arrivals.py count FILE SKIP_PORT the most Lambda shared-bucket requests (every Lambda control-plane call but
                                        GetFunction, as the throttling proxy counts them) within any one second, per
                                        destination port, SKIP_PORT (moto's) left out

scripts/benchmark.sh share uses it beside the throttling proxy's own count: the proxy stamps an arrival on its handler
thread, in the benchmark's JVM, so a pause of that JVM (a garbage collection, a safepoint) bunches its stamps.
"""
import re
import socket
import struct
import sys

SHARED_PATH = re.compile(r"^/20(15-03-31|18-10-31|17-03-31|19-09-25|19-09-30|20-04-22|21-10-31)/")
GET_FUNCTION = re.compile(r"^/2015-03-31/functions/[^/]+/?$")
METHODS = (b"GET ", b"PUT ", b"POST ", b"DELETE ", b"HEAD ")


def record(path):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 * 1024 * 1024)  # SO_RCVBUFFORCE
    s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS: the kernel's receive time
    s.bind(("lo", 0))
    with open(path, "w", buffering=1) as out:
        while True:
            data, anc, _, addr = s.recvmsg(400, socket.CMSG_SPACE(16))
            if addr[2] == socket.PACKET_OUTGOING or len(data) < 34 or data[12:14] != b"\x08\x00":
                continue
            stamps = [c for l, t, c in anc if l == socket.SOL_SOCKET and t == 35]
            ip = data[14:]
            if not stamps or ip[9] != 6:
                continue
            tcp = ip[(ip[0] & 0x0F) * 4:]
            payload = tcp[(tcp[12] >> 4) * 4:]
            if payload.startswith(METHODS):
                sec, nsec = struct.unpack("qq", stamps[0][:16])
                line = payload.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                port = struct.unpack("!H", tcp[2:4])[0]
                out.write(f"{sec * 1_000_000_000 + nsec} {port} {line[0]} {line[1]}\n")


def count(path, skip):
    by_port = {}
    for row in open(path):
        ts, port, method, target = row.split(" ", 3)
        p = target.strip().split("?")[0]
        if int(port) == skip or not SHARED_PATH.match(p) or "invocations" in p:
            continue
        if method == "GET" and GET_FUNCTION.match(p):
            continue
        by_port.setdefault(int(port), []).append(int(ts))
    for port, times in sorted(by_port.items(), key=lambda e: -len(e[1])):
        times.sort()
        first = best = 0
        for i, t in enumerate(times):
            while t - times[first] >= 1_000_000_000:
                first += 1
            best = max(best, i - first + 1)
        print(f"on the wire (kernel timestamps, port {port}): {len(times)} shared requests, most within one second: {best}")


if __name__ == "__main__":
    record(sys.argv[2]) if sys.argv[1] == "record" else count(sys.argv[2], int(sys.argv[3]))
