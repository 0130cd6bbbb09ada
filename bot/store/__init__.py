"""SQLite storage (aiosqlite, WAL): every SQL statement of worldloom lives in this package.

`Store` (core.py) holds worlds, bindings, the event log, jobs, panels and blobs; the schema is
in migrations.py. Further tables get a module of their own here that works through
`Store.transaction()` and `Store.fetch_all()`: admin.py (bans, quotas, audit, flagged images).
"""

from bot.store.admin import AdminStore, AuditEntry
from bot.store.core import JOB_STATES, JobRow, Store
from bot.store.migrations import MIGRATIONS

__all__ = ["JOB_STATES", "MIGRATIONS", "AdminStore", "AuditEntry", "JobRow", "Store"]
