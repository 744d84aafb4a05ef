#!/usr/bin/env python3
"""sse_latency.py -- how long after another process's committed write a connected
live-update client hears of it: subscribes to /api/events?study_id=1, then 20 times
writes a user attr of the study's newest (RUNNING) trial with sqlite3 and waits for
the "trials" event. Prints "median p90" in milliseconds.

    sse_latency.py DB_PATH PORT
"""
import socket
import sqlite3
import sys
import time

db, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /api/events?study_id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
s.settimeout(5)
buf = b""
while b": connected" not in buf:
    buf += s.recv(65536)
con = sqlite3.connect(db, timeout=10)
(tid,) = con.execute("SELECT max(trial_id) FROM trials").fetchone()
lat = []
for i in range(20):
    buf = b""
    con.execute("INSERT OR REPLACE INTO trial_user_attributes (trial_id, key, value_json) VALUES (?, 'probe', ?)",
                (tid, str(i)))
    con.commit()
    t0 = time.perf_counter()
    while b"event: trials" not in buf:
        buf += s.recv(65536)
    lat.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.05)
lat.sort()
print("%.0f %.0f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.9)]))
