"""The `kiosk` command as an operator uses it: seed, add-kiosk, serve, call, hash-pin, demo, bad config."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.central.demo import run_demo
from kiosk.staff import check_pin, is_pin_hash
from tests.support.services import CentralServer


def kiosk(
    *args: str, cwd: Path | None = None, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    # No stdin given: an empty one, so a command that reads a piped stdin never waits on the test's own.
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
        input=stdin if stdin is not None else "",
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
        # The body may also come after the options, from stdin (`-`, or no body with stdin piped), or a file.
        body_file = tmp_path / "body.json"
        body_file.write_text(body)
        for how in (
            {"args": [*common, body]},
            {"args": [*common[:2], body, *common[2:]]},
            {"args": [*common, "-"], "stdin": body},
            {"args": common, "stdin": body},
            {"args": [*common, "--body-file", str(body_file)]},
        ):
            answer = kiosk(
                "central", "call", "POST", "/v1/holders/identify", *how["args"], stdin=how.get("stdin")
            )
            assert json.loads(answer.stdout)["psn_no"] == people[0]["psn_no"], how
        for bad_args, message in (
            ([*common, "{not json"], "the body is not JSON"),
            ([*common, body, "--body-file", str(body_file)], "give the body once"),
            ([*common, body, "--no-such-option"], "unrecognized arguments: --no-such-option"),
            ([*common, body, body], f"unrecognized arguments: {body}"),
        ):
            refused_call = kiosk("central", "call", "POST", "/v1/holders/identify", *bad_args, check=False)
            assert refused_call.returncode == 2 and message in refused_call.stderr, bad_args
        get_with_body = kiosk("central", "call", "GET", "/v1/areas", *common, body, check=False)
        assert get_with_body.returncode == 2 and "a GET has no body" in get_with_body.stderr
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
        ("[central]\nport = 'eighty'\n", '[central] port: must be an integer, got a string "eighty"'),
        ("[central]\nprot = 80\n", "[central] prot: unknown setting (known: database_url, host, port,"),
        ("[sync]\nbackoff_base_s = 0\n", "[sync] backoff_base_s: must be > 0, got 0"),
        ('[kiosk]\nreader = "usb"\n', '[kiosk] reader: must be "pcsc" or "simulated", got "usb"'),
        ("[centre]\n", "unknown section [centre]"),
        ("[central\n", "[central]: not valid TOML"),
        ("[central]\nsms_gateway = 'file'\n", "[central] sms_file: required"),
    ],
)
def test_a_broken_config_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(text)
    result = kiosk("--config", str(config), "central", "seed", "--people", "0", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(f"kiosk: configuration error in {config}: {message}"), result.stderr
    assert "Traceback" not in result.stderr
    after = kiosk("central", "seed", "--people", "0", "--config", str(config), check=False)
    assert after.returncode == 2 and after.stderr == result.stderr  # --config after the command too


def test_commands_that_do_not_read_the_config_run_with_a_broken_one(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text("[kiosk]\nstaff_pin_hash = 'pasted wrong'\n")
    made = kiosk("hash-pin", "--stdin", cwd=tmp_path, stdin="246810\n")
    assert made.returncode == 0 and check_pin("246810", made.stdout.strip())
    doctor = kiosk("doctor", cwd=tmp_path, check=False)
    assert (
        doctor.returncode == 2
        and "[kiosk] staff_pin_hash: not a hash made by `kiosk hash-pin`" in doctor.stderr
    )


# --- kiosk hash-pin ------------------------------------------------------------------------------------


def test_hash_pin_from_stdin_verifies_with_check_pin(tmp_path: Path) -> None:
    made = kiosk("hash-pin", "--stdin", cwd=tmp_path, stdin="24681012\n")
    stored = made.stdout.strip()
    assert is_pin_hash(stored) and len(made.stdout.splitlines()) == 1
    assert check_pin("24681012", stored) and not check_pin("24681013", stored)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nstaff_pin_hash = "{stored}"\n')
    from kiosk.config import load_config

    assert load_config(config).kiosk.staff_pin_hash == stored


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "12345a", "", "１２３４５６"])
def test_hash_pin_refuses_a_pin_the_keypad_cannot_type(tmp_path: Path, pin: str) -> None:
    refused = kiosk("hash-pin", "--stdin", cwd=tmp_path, stdin=pin + "\n", check=False)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "kiosk: a staff PIN is 6 to 12 digits" in refused.stderr


def _read_until(fd: int, wanted: str, timeout: float = 30.0) -> str:
    """What the terminal shows until `wanted` appears (or the program ends)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{wanted!r} did not appear; the terminal showed {seen!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program ended and closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen.decode(errors="replace")


def _hash_pin_on_a_terminal(tmp_path: Path, first: str, second: str) -> tuple[int, str]:
    """Run `kiosk hash-pin` on a pseudo-terminal that is its controlling one (getpass opens /dev/tty)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "hash-pin"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=tmp_path,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
    finally:
        os.close(slave)
    try:
        shown = _read_until(master, "staff PIN: ")
        os.write(master, first.encode() + b"\n")
        shown += _read_until(master, "again: ")
        os.write(master, second.encode() + b"\n")
        shown += _read_until(master, "\0")  # everything, until the program closes the terminal
        return proc.wait(timeout=30), shown
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_hash_pin_asks_twice_without_echo(tmp_path: Path) -> None:
    code, shown = _hash_pin_on_a_terminal(tmp_path, "97531086", "97531086")
    assert code == 0, shown
    assert "97531086" not in shown  # getpass turned the echo off
    stored = next(word for word in shown.split() if word.startswith("pbkdf2_sha256$"))
    assert check_pin("97531086", stored)


def test_hash_pin_refuses_two_different_pins(tmp_path: Path) -> None:
    code, shown = _hash_pin_on_a_terminal(tmp_path, "97531086", "97531087")
    assert code == 2 and "the two PINs differ" in shown and "pbkdf2_sha256$" not in shown


def test_hash_pin_does_not_ask_again_for_a_pin_it_refuses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    asked: list[str] = []

    def getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return "1234"

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("getpass.getpass", getpass)
    assert cli.main(["hash-pin"]) == 2
    assert asked == ["staff PIN: "] and "6 to 12 digits" in capsys.readouterr().err


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


def test_kiosk_central_demo_narrates_the_walkthrough(tmp_path: Path) -> None:
    demo = kiosk("central", "demo", "--no-serve", cwd=tmp_path)
    assert "status active" in demo.stdout and "status revoked, ended by relative" in demo.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--demo", "doctor"], "they do not go with `kiosk doctor`"),
        (["--pcsc"], "--pcsc goes with --demo"),
        (["central"], "the following arguments are required: COMMAND"),
        (["central", "demand"], "invalid choice: 'demand'"),
    ],
)
def test_wrong_command_lines_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = kiosk(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2 and message in result.stderr
