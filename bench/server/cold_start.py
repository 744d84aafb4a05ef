#!/usr/bin/env python3
"""cold_start.py -- time from starting `loupe dashboard` to its first 200 on /api/meta
(median of 7; a raw socket poll every 0.5 ms, so process spawns do not add up).

    cold_start.py LOUPE_BIN DB_PATH PORT
"""
import socket
import subprocess
import sys
import time

loupe, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = []
for _ in range(7):
    t0 = time.perf_counter()
    p = subprocess.Popen([loupe, "dashboard", "sqlite:///" + db, "--port", str(port), "-q"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            ok = s.recv(100).startswith(b"HTTP/1.1 200")
            s.close()
            if ok:
                break
        except OSError:
            time.sleep(0.0005)
    res.append((time.perf_counter() - t0) * 1000)
    p.terminate()
    p.wait()
res.sort()
print("%.0f" % res[len(res) // 2])
