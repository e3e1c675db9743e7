"""Two ``podium suite run`` of one campaign never run at once; a lock left by a dead process is taken over."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from podium.campaign.lock import LOCK_FILE, CampaignLock
from podium.errors import PodiumError


def test_a_live_owner_keeps_the_campaign_and_a_dead_one_does_not(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_FILE).write_text(f"{sleeper.pid}\n")
        with pytest.raises(PodiumError, match=f"already running \\(pid {sleeper.pid}\\)"):
            with CampaignLock(tmp_path):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with CampaignLock(tmp_path) as lock:  # its owner died: taken over
        assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid()) and lock.held
    assert not (tmp_path / LOCK_FILE).exists()  # released
