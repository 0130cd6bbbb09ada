"""The database schema, as numbered migrations: each runs once, in order, in one transaction.

Add a new one at the end; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE worlds (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_by TEXT NOT NULL,
        creator_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        branched_from TEXT
    );
    CREATE TABLE bindings (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        thread TEXT NOT NULL,
        world_id TEXT NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
        created_at REAL NOT NULL,
        PRIMARY KEY (platform, workspace, channel, thread)
    );
    CREATE INDEX bindings_world ON bindings(world_id);
    CREATE TABLE events (
        world_id TEXT NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        grp INTEGER NOT NULL,
        author TEXT NOT NULL,
        author_id TEXT NOT NULL,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (world_id, seq)
    );
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        world_id TEXT NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
        panel INTEGER NOT NULL,
        take INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('queued','planned','rendering','rendered','posted','failed','cancelled')),
        spec TEXT NOT NULL,
        place TEXT NOT NULL,
        author TEXT NOT NULL,
        image TEXT REFERENCES blobs(sha256),
        message_id TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_state ON jobs(state);
    CREATE TABLE panels (
        world_id TEXT NOT NULL REFERENCES worlds(id) ON DELETE CASCADE,
        panel INTEGER NOT NULL,
        take INTEGER NOT NULL,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        image TEXT REFERENCES blobs(sha256),
        message_id TEXT,
        PRIMARY KEY (world_id, panel, take)
    );
    """,
)
