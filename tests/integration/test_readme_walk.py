"""The README's "Seeing bindings made and revoked by hand", run line by line as the README writes it."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.services import free_port

REPO = Path(__file__).resolve().parents[2]
HEADING = "### Seeing bindings made and revoked by hand"
KIOSK = [sys.executable, "-m", "kiosk"]  # what the `kiosk` entry point runs


def readme_walk() -> list[str]:
    """The commands of the section's sh block, continuation lines joined, comments kept for shlex to drop."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    block = section[section.index("```sh\n") + len("```sh\n") :]
    block = block[: block.index("```")].replace("\\\n", " ")
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the JSON body goes on on the next line
            continue
        if pending.strip():
            commands.append(pending)
        pending = ""
    assert not pending, f"unterminated command in the README walk: {pending!r}"
    return commands


class Walk:
    """The shell the README assumes: one folder, one environment, and what the earlier steps printed."""

    def __init__(self, folder: Path, env: dict[str, str], central_url: str) -> None:
        self.folder, self.env, self.central_url = folder, env, central_url
        self.known: dict[str, str] = {}
        self.answers: dict[str, Any] = {}  # "METHOD path-as-written" -> the JSON answer
        self.server: subprocess.Popen[bytes] | None = None

    def fill(self, token: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "new uuid":
                return str(uuid.uuid4())
            assert name in self.known, f"the README asks for <{name}>, which no earlier step printed"
            return self.known[name]

        return re.sub(r"<([^<>]+)>", value, token)

    def run(self, command: str) -> None:
        bare = " ".join(shlex.split(command, comments=True))
        export = re.fullmatch(r"export (\w+)=\$\(cat (\S+)\)", bare)
        if export:
            self.env[export.group(1)] = (self.folder / export.group(2)).read_text().strip()
            return
        words = shlex.split(command, comments=True)
        if words[0] == "tail":
            self.wait_for_the_sms()
            shown = subprocess.run(words, cwd=self.folder, capture_output=True, text=True, check=True).stdout
            code = re.search(r"验证码 (\d{6})", shown)
            assert code is not None, f"no code in the SMS the README points at: {shown!r}"
            self.known["code"] = code.group(1)
            return
        assert words[0] == "kiosk", f"the README walk has a line this test cannot run: {command!r}"
        argv = [*KIOSK, *(self.fill(word) for word in words[1:])]
        if argv[-1] == "&":
            self.start_server(argv[:-1])
        elif len(argv) > 2 and argv[-2] == ">":
            with (self.folder / argv[-1]).open("w") as out:
                done = subprocess.run(
                    argv[:-2], cwd=self.folder, env=self.env, stdout=out, stderr=subprocess.PIPE
                )
            assert done.returncode == 0, f"{command}: {done.stderr.decode()}"
            if argv[-1] == "people.jsonl":
                self.learn_the_family()
        else:
            self.call(words, argv, command)

    def call(self, words: list[str], argv: list[str], command: str) -> None:
        done = subprocess.run(
            argv, cwd=self.folder, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        answer = json.loads(done.stdout)
        assert words[1:3] == ["central", "call"], command
        self.answers[f"{words[3]} {words[4]}"] = answer
        if isinstance(answer, dict):
            self.known.update({k: str(v) for k, v in answer.items() if isinstance(v, str | int)})

    def learn_the_family(self) -> None:
        people = [json.loads(line) for line in (self.folder / "people.jsonl").read_text().splitlines()]
        father = next(p for p in people if p["household"] == 1 and p["relation_to_head"] == "51")
        self.known.update({"father certno": father["certno"], "father psn_no": father["psn_no"]})

    def start_server(self, argv: list[str]) -> None:
        log = (self.folder.parent / "central.log").open("wb")
        self.server = subprocess.Popen(argv, cwd=self.folder, env=self.env, stdout=log, stderr=log)
        url = f"{self.central_url}/healthz"
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while True:
                assert self.server.poll() is None, (self.folder.parent / "central.log").read_text()
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                assert time.monotonic() < deadline, "the central service did not start"
                time.sleep(0.1)

    def wait_for_the_sms(self) -> None:
        """The SMS is written by the service as it answers; a person reading the file is slower than that."""
        sms = self.folder / "sms.jsonl"
        deadline = time.monotonic() + 30
        while not (sms.exists() and "验证码" in sms.read_text(encoding="utf-8")):
            assert time.monotonic() < deadline, "no SMS code reached sms.jsonl"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def test_the_readme_walk_binds_and_revokes(tmp_path: Path) -> None:
    folder = tmp_path / "walk"
    folder.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The README's commands take the port and the URL from kiosk.toml: a free port, not 8765, here.
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[central]\nport = {port}\n[terminal]\ncentral_url = "{url}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")}
    walk = Walk(folder, env, url)
    try:
        for command in readme_walk():
            walk.run(command)
    finally:
        walk.stop()

    holder = "3311000000000001"
    assert list(walk.answers) == [
        "POST /v1/bindings/check",
        "POST /v1/otp/send",
        "POST /v1/otp/verify",
        "GET /v1/letters/zj-family-aid/2",
        "POST /v1/bindings",
        f"GET /v1/persons/{holder}/bindings",
        "POST /v1/bindings/<binding_id>/revoke",
    ]
    a = walk.answers
    assert "sms" in a["POST /v1/bindings/check"]["required_verification"]
    assert a["POST /v1/otp/verify"]["verified"] is True
    bound = a["POST /v1/bindings"]
    assert bound["status"] == "active" and bound["relative"]["psn_no"] == walk.known["father psn_no"]
    listed = a[f"GET /v1/persons/{holder}/bindings"]["as_holder"]
    assert [b["binding_id"] for b in listed] == [bound["binding_id"]]
    ended = a["POST /v1/bindings/<binding_id>/revoke"]
    assert ended["status"] == "revoked" and ended["ended_by"] == "relative"
