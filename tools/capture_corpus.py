#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Records real client traffic as fuzz seeds.

A TCP proxy between Kafka clients and a running broker: every request frame
a client sends is written, without its 4-byte size prefix, to
OUT_DIR/<api_key>-v<version>-<sha1>.bin (the input format of
fuzz/fuzz_request.c); record batches found in Produce requests can be written
to a second directory for fuzz/fuzz_batch.c. Run the clients against
--listen, then stop the proxy.

usage: capture_corpus.py --listen 127.0.0.1:19092 --broker 127.0.0.1:9092 \
           --out fuzz/corpus/request [--batches fuzz/corpus/batch] [--seconds 60]
"""
import argparse
import hashlib
import os
import socket
import struct
import threading
import time


def save(out, name_prefix, data):
    digest = hashlib.sha1(data).hexdigest()[:16]
    path = os.path.join(out, f"{name_prefix}-{digest}.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def extract_batches(frame):
    """Best effort: find v2 record batches (magic 2 at offset 16) in a frame."""
    found = []
    i = 0
    while i + 61 <= len(frame):
        if frame[i + 16] == 2:
            (length,) = struct.unpack_from(">i", frame, i + 8)
            total = length + 12
            if 61 <= total <= len(frame) - i and struct.unpack_from(">q", frame, i)[0] == 0:
                found.append(frame[i:i + total])
                i += total
                continue
        i += 1
    return found


def pump_requests(src, dst, args):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while len(buf) >= 4:
                (size,) = struct.unpack_from(">i", buf, 0)
                if size < 0 or len(buf) < 4 + size:
                    break
                frame = buf[4:4 + size]
                buf = buf[4 + size:]
                if len(frame) >= 4:
                    key, ver = struct.unpack_from(">hh", frame, 0)
                    save(args.out, f"{key}-v{ver}", frame)
                    if key == 0 and args.batches:
                        for b in extract_batches(frame):
                            save(args.batches, "batch", b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.batches:
        os.makedirs(args.batches, exist_ok=True)
    lh, lp = args.listen.rsplit(":", 1)
    bh, bp = args.broker.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lh, int(lp)))
    ls.listen(64)
    ls.settimeout(0.5)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        b = socket.create_connection((bh, int(bp)))
        threading.Thread(target=pump_requests, args=(c, b, args), daemon=True).start()
        threading.Thread(target=pump, args=(b, c), daemon=True).start()


if __name__ == "__main__":
    main()
