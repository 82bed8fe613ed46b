"""The embedded default, as a newcomer gets it: SQLite, no Redis, jobs on a thread."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded(tmp_path):
    db = tmp_path / "embedded.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{db}", STORAGE_ROOT=str(tmp_path / "st"))

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    return db, manage


def test_migrate_demo_verify_on_sqlite_with_in_process_jobs(embedded):
    db, manage = embedded
    assert manage("migrate", "-v0").returncode == 0
    demo = manage("demo")
    assert demo.returncode == 0, demo.stderr
    result = manage("verify_history", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["reels_checked"] == 10
    with sqlite3.connect(db) as con:
        # the demo's photo was thumbnailed by the in-process runner, not left queued
        assert con.execute("SELECT state, worker FROM workflow_job").fetchall()[0][0] == "done"
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE workflow_event SET reason = 'rewritten' WHERE seq = 1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM workflow_event WHERE seq = 1")
        # someone who drops the triggers can change a row; verify_history then says so
        con.execute("DROP TRIGGER workflow_event_no_update")
        con.execute("UPDATE workflow_event SET reason = 'rewritten' WHERE id = 3")
    tampered = manage("verify_history", "--json")
    assert tampered.returncode == 1
    problems = json.loads(tampered.stdout)["problems"]
    assert len(problems) == 1 and "changed" in problems[0]["problem"]


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off(embedded):
    _, manage = embedded
    env_check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], "DEBUG": "0", "DATABASE_URL": "sqlite:////tmp/x.db"})
    assert env_check.returncode != 0 and "SECRET_KEY is not set" in env_check.stderr
