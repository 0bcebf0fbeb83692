#!/usr/bin/env python3
# The cost of campaign.durability: the ledger's write pattern (WAL, one transaction per batch of
# upserts into deliveries, its schema) under SQLite synchronous=NORMAL and FULL, timed per commit.
# Bounded: 700 commits per setting. Usage: perf/ledger_durability.py [DB_PATH on the disk to measure]
import os, sqlite3, sys, time
SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (campaign TEXT NOT NULL, recipient_id INTEGER NOT NULL, state TEXT NOT NULL,
 attempts INTEGER NOT NULL DEFAULT 0, material TEXT, gateway TEXT, smtp_code INTEGER, enhanced_code TEXT, reason TEXT,
 delivery_ms REAL, first_at REAL, next_at REAL, updated_at REAL, PRIMARY KEY (campaign, recipient_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (campaign, state, next_at);
"""
UPSERT = ("INSERT INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (campaign, recipient_id) DO UPDATE SET "
          "state = excluded.state, attempts = excluded.attempts, updated_at = excluded.updated_at")
def run(path, sync, batch, commits):
    for s in ("", "-wal", "-shm"):
        if os.path.exists(path + s): os.remove(path + s)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL"); db.executescript(SCHEMA)
    db.execute("PRAGMA synchronous = " + sync)
    rid = 0
    t0 = time.perf_counter()
    for _ in range(commits):
        db.execute("BEGIN")
        for _ in range(batch):
            rid += 1
            db.execute(UPSERT, ("c", rid, "delivered", 1, "m", "gw1", 250, "2.0.0", "ok", 3.0, 1.0, 0.0, 1.0))
        db.execute("COMMIT")
    dt = time.perf_counter() - t0
    db.close()
    return dt
path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/lbmail-ledger-durability.db"
for batch, commits in ((1000, 100), (10, 300), (1, 300)):
    row = []
    for sync in ("NORMAL", "FULL"):
        dt = run(path, sync, batch, commits)
        row.append((sync, dt / commits * 1e3, batch * commits / dt))
    print(f"batch {batch:5d} x {commits} commits: " + "; ".join(f"{s}: {ms:.2f} ms/commit, {rate:,.0f} rows/s" for s, ms, rate in row))
