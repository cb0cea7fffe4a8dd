"""The `kiosk` command as an operator uses it: seed, add-kiosk, serve, call, the demo, bad configuration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.central.demo import run_demo
from tests.support.services import CentralServer


def kiosk(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kiosk {' '.join(args)} failed: {result.stderr}")
    return result


def test_seed_add_kiosk_serve_and_call(database_url: str, tmp_path: Path) -> None:
    listed = kiosk(
        "central", "seed", "--people", "40", "--seed", "9", "--list", "--database-url", database_url
    )
    people = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(people) == 40 and "seeded 40 new people" in listed.stderr
    again = kiosk("central", "seed", "--people", "40", "--seed", "9", "--database-url", database_url)
    assert "seeded 0 new people" in again.stderr  # deterministic: the same people, not new ones

    secret = kiosk("central", "add-kiosk", "hall-7-terminal-2", "--database-url", database_url).stdout.strip()
    assert len(secret) >= 40
    dup = kiosk("central", "add-kiosk", "hall-7-terminal-2", "--database-url", database_url, check=False)
    assert dup.returncode == 1 and "already registered" in dup.stderr
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret)

    with CentralServer(database_url, log_dir=tmp_path) as server:
        common = ["--url", server.url, "--kiosk-id", "hall-7-terminal-2", "--secret-file", str(secret_file)]
        areas = kiosk("central", "call", "GET", "/v1/areas", *common)
        assert {a["admdvs"] for a in json.loads(areas.stdout)} >= {"331100", "330100"}
        body = json.dumps({"certno": people[0]["certno"]})
        holder = json.loads(kiosk("central", "call", "POST", "/v1/holders/identify", body, *common).stdout)
        assert holder["psn_no"] == people[0]["psn_no"]
        (tmp_path / "wrong").write_text("wrong-secret")
        refused = kiosk(
            "central",
            "call",
            "GET",
            "/v1/areas",
            *common[:4],
            "--secret-file",
            str(tmp_path / "wrong"),
            check=False,
        )
        assert refused.returncode == 1 and "bad_signature" in refused.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[central]\nport = 'eighty'\n", "[central].port: must be int"),
        ("[central]\nprot = 80\n", "[central].prot: unknown setting"),
        ("[centre]\n", "unknown section [centre]"),
        ("[central\n", "not valid TOML"),
        ("[central]\nsms_gateway = 'file'\n", "sms_file: required"),
    ],
)
def test_a_broken_config_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(text)
    result = kiosk("--config", str(config), "central", "seed", "--people", "0", check=False)
    assert result.returncode == 2
    assert message in result.stderr and str(config) in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shipped_kiosk_toml_is_valid() -> None:
    from kiosk.config import load_config

    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "kiosk.toml")
    assert config.central.port == 8765 and config.terminal.central_url.startswith("http://127.0.0.1")


def test_demo_walkthrough_binds_settles_and_unbinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(serve_forever=False) == 0
    out = capsys.readouterr().out
    assert "status active" in out and "status revoked, ended by relative" in out
    assert "family account" in out and "验证码" in out
