"""Reports: JSON fields, Markdown, CSV, PNG charts, and a self-contained HTML page that renders in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sociability.profiles import compare, load_profile_config, profile
from sociability.report import save_pngs, to_html, to_json, to_markdown, write_html
from test_profiles import PerfectModel, conversationalist, link_robot, onehot, timeline, vanity_amplifier


@pytest.fixture(scope="module")
def comparison():
    config = load_profile_config()
    profiles = []
    for build in (conversationalist, link_robot, vanity_amplifier):
        posts, labels = build()
        profiles += profile(posts, PerfectModel(), config, proba=onehot(labels))
    hostile, labels = timeline("hacker", [("<script>alert('x')</script> & <b>bold</b> https://t.co/evil1", {}, "personal_sharing")] * 3)
    profiles += profile(hostile, PerfectModel(), config, proba=onehot(labels))
    return compare(profiles)


def test_json_has_the_documented_fields(comparison):
    text = to_json(comparison.profiles)
    data = json.loads(text)
    assert len(data) == 4
    assert [json.loads(line.strip(" ,[]"))["account"] for line in text.splitlines()] == [d["account"] for d in data]  # one per line
    for item in data:
        assert {"account", "n_posts", "shares", "score", "archetype", "behaviour", "advice"} <= set(item)
        assert set(item["shares"]) == {"self_promotion", "vanity_retweet", "personal_sharing", "genuine_conversation"}
        assert set(item["shares"]["personal_sharing"]) == {"estimate", "low", "high"}
        assert set(item["score"]) == {"estimate", "low", "high"}


def test_markdown_ranks_accounts(comparison):
    text = to_markdown(comparison)
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows[0].split("|")[2].strip() == "chatty" and len(rows) == 4


def test_html_is_self_contained_and_escapes_posts(comparison):
    page = to_html(comparison)
    assert page.count("<svg") == 4
    # nothing fetched from anywhere: no scripts, stylesheets, imports, remote urls (url(#clip) is in-page)
    assert not re.search(r"<script|<link[^>]+stylesheet|@import|url\((?!#)|src=\"http", page)
    assert "&lt;script&gt;alert" in page and "<b>bold</b>" not in page
    for account in ("chatty", "linkbot", "drlena", "hacker"):
        assert f'id="{account}"' in page
    assert 'name=viewport' in page


def test_png_charts(comparison, tmp_path):
    paths = save_pngs(comparison.profiles, tmp_path / "charts")
    assert [p.name for p in paths] == ["mix.png", "score.png", "behaviour.png", "timeline.png"]
    for path in paths:
        image = Image.open(path)
        assert image.size[0] > 400 and np.asarray(image.convert("L")).std() > 5  # drawn, not blank


def _chromium() -> str:
    """Debian's chromium, installed when missing (as root with apt), else a skip with the reason."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and cannot be installed here (needs root and apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"could not install Debian's chromium: {exc}")
    return shutil.which("chromium") or pytest.skip("chromium still missing after apt-get install")


def test_html_report_renders_in_headless_chromium(comparison, tmp_path):
    browser = _chromium()
    page = write_html(comparison, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=412,2400",  # a phone's width
               f"--screenshot={shot}", page.resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    image = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    assert image.shape[1] == 412
    # the page drew: not blank, and the teal of the conversation bars is on it
    assert image.std() > 20
    teal = np.all(np.abs(image - np.array([0x2A, 0x9D, 0x8F])) < 12, axis=2)
    assert teal.sum() > 100
