"""`<state>/run.json` may hold an external database's password: only its owner reads it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ioc.runstate import RunState


def test_run_state_is_written_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    try:
        state = RunState(os.getpid(), database_url="postgresql://ioc:mật-khẩu@db:5432/ioc")
        state.save(tmp_path)
        path = RunState.path(tmp_path)
        path.chmod(0o644)  # a file left by an older version …
        state.save(tmp_path)  # … is replaced by one with the right mode
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_suffix(".tmp").exists()
    loaded = RunState.load(tmp_path)
    assert loaded is not None and loaded.database_url == state.database_url
