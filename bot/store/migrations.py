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
    # 2: public servers: bans, daily quotas, the audit log, images the classifier flagged
    """
    CREATE TABLE bans (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        user_id TEXT NOT NULL,
        by_id TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (platform, workspace, user_id)
    );
    CREATE TABLE quota_limits (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        user_id TEXT NOT NULL,
        per_day INTEGER NOT NULL,
        by_id TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (platform, workspace, user_id)
    );
    CREATE TABLE quota_usage (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        day TEXT NOT NULL,
        user_id TEXT NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace, day, user_id)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_place ON audit(platform, workspace, id);
    CREATE TABLE image_flags (
        sha256 TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        score REAL NOT NULL,
        at REAL NOT NULL
    );
    """,
    # 3: the inbox: every command acknowledged to a platform, keyed by the platform's own id
    """
    CREATE TABLE inbox (
        key TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        thread TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        payload TEXT NOT NULL,
        token TEXT,
        seed INTEGER NOT NULL,
        received_at REAL NOT NULL,
        made TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending','done','answered','failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        updated_at REAL NOT NULL
    );
    CREATE INDEX inbox_state ON inbox(platform, state);
    CREATE TABLE inbox_files (
        key TEXT NOT NULL REFERENCES inbox(key) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (key, n)
    );
    """,
)
