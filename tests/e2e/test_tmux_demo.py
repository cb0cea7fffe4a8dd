"""End to end in a real terminal: `python -m kiosk --demo` inside tmux, driven like a citizen would.

The demo card goes in with a mouse tap on the DEMO panel, the PIN, the father's ID number and the SMS code
are typed on the keyboard, every button is tapped with an SGR mouse sequence at the cell where its label
is drawn (found in `tmux capture-pane`, CJK counted two cells wide), and the letter is scrolled with the
End key and the mouse wheel. The binding is then checked in the embedded central's SQLite database,
Ctrl+C/Q/Z/\\ are shown not to end the app, and the staff PIN behind F12 ends it.

Every wait polls the screen with a deadline; nothing relies on a fixed sleep except the short
"nothing happened" checks. tmux runs on a private socket with its own (empty) configuration, and
the demo's temp dir goes to a private TMPDIR so the test finds its central.db and sms.jsonl.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from kiosk.central.seed import SyntheticPerson, generate_people
from kiosk.demo import DEMO_PIN
from kiosk.domain.relations import relation
from screens.i18n import _translations

ROOT = Path(__file__).resolve().parents[2]
COLS, ROWS = 120, 40
STAFF_PIN = "000000"  # what `kiosk --demo` sets (kiosk/cli.py)
DEMO_PEOPLE = 120  # build_demo()'s default
START_TIMEOUT = 90.0  # migrations, seeding and uvicorn before the first paint; slow CI runners
STEP_TIMEOUT = 20.0

zh = _translations("zh-CN").gettext  # the labels as the kiosk draws them (Chinese is the default)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
]


def _cells(line: str) -> list[str]:
    """One entry per terminal cell: a wide character is followed by an empty placeholder cell."""
    out: list[str] = []
    for ch in line:
        out.append(ch)
        out.extend("" for _ in range(cell_len(ch) - 1))
    return out


class Terminal:
    """A tmux pane: start a command, read the screen, send keys, taps and wheel events."""

    def __init__(self, workdir: Path) -> None:
        self.socket = f"kiosk-e2e-{uuid.uuid4().hex[:12]}"
        self.conf = workdir / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\nset -g default-terminal xterm-256color\n")
        # The command's exit status, written by a `sh -c` wrapper: tmux's own #{pane_dead_status} was
        # left empty in about half of the runs here (tmux 3.3a), although the process had ended.
        self.status_file = workdir / "exit-status"
        self.app_pid: int | None = None
        self.socket_path = ""
        self.last_screen = ""

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=check,
        )

    def start(self, argv: list[str], env: dict[str, str], cwd: Path) -> int:
        """Start `argv` in a private tmux server (socket `-L`, config `-f`) whose environment is `env`;
        return the command's pid (a child of the pane's shell)."""
        size = ["-x", str(COLS), "-y", str(ROWS)]
        cmd = ["tmux", "-u", "-L", self.socket, "-f", str(self.conf), "new-session", "-d", *size]
        wrapped = ["sh", "-c", '"$@"; echo $? > "$0"', str(self.status_file), *argv]
        subprocess.run(
            [*cmd, "-c", str(cwd), "--", *wrapped],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        pane_pid, self.socket_path = self.tmux(
            "display-message", "-p", "-t", "0", "#{pane_pid} #{socket_path}"
        ).stdout.split()
        shell = int(pane_pid)
        deadline = time.monotonic() + 10
        while not (children := _children(shell)):
            assert time.monotonic() < deadline, "the command did not start"
            time.sleep(0.02)
        self.app_pid = children[0]
        return self.app_pid

    def dead(self) -> bool:
        return self.status_file.exists() and self.status_file.read_text().endswith("\n")

    def exit_status(self) -> str:
        return self.status_file.read_text().strip() if self.dead() else "running"

    def screen(self) -> str:
        self.last_screen = self.tmux("capture-pane", "-p", "-t", "0").stdout
        return self.last_screen

    def wait(self, what: str | Callable[[str], bool], timeout: float = STEP_TIMEOUT) -> str:
        """Poll the screen until `what` is on it (or the predicate holds); fail with the last screen."""
        test = what if callable(what) else (lambda s: what in s)
        deadline = time.monotonic() + timeout
        while True:
            if self.dead():
                pytest.fail(
                    f"the app ended (exit status {self.exit_status()}); last screen:\n{self.screen()}"
                )
            text = self.screen()
            if test(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"not seen within {timeout} s: {what!r}; the screen:\n{text}")
            time.sleep(0.05)

    def locate(
        self, label: str, *, button: bool = True, row_with: str | None = None
    ) -> tuple[int, int] | None:
        """1-based (x, y) of the middle of `label`; with `button`, only where a tall button's top edge
        (▔) is drawn right above it, which skips the same words in the running text."""
        lines = self.screen().splitlines()
        for y, line in enumerate(lines):
            if row_with is not None and row_with not in line:
                continue
            start = 0
            while (i := line.find(label, start)) >= 0:
                start = i + 1
                x0 = cell_len(line[:i])
                mid = x0 + cell_len(label) // 2
                if button:
                    above = _cells(lines[y - 1]) if y > 0 else []
                    if not (mid < len(above) and above[mid] == "▔"):
                        continue
                return mid + 1, y + 1
        return None

    def tap_at(self, x: int, y: int) -> None:
        self.tmux("send-keys", "-t", "0", "-l", f"\x1b[<0;{x};{y}M")
        self.tmux("send-keys", "-t", "0", "-l", f"\x1b[<0;{x};{y}m")

    def tap(self, label: str, *, button: bool = True, row_with: str | None = None) -> None:
        """Wait until `label` is drawn (as a button, by default) and the screen is still, then tap its
        middle. Still matters: a new screen's first frame is laid out without the app's breakpoint
        classes (-tall/-short) and moves about 0.1 s later, so an early tap can hit the wrong button."""
        self.wait(lambda _s: self.locate(label, button=button, row_with=row_with) is not None)
        self.wait_stable()
        where = self.locate(label, button=button, row_with=row_with)
        assert where is not None, f"{label!r} went away:\n{self.last_screen}"
        self.tap_at(*where)

    def wheel_down(self, x: int, y: int) -> None:
        self.tmux("send-keys", "-t", "0", "-l", f"\x1b[<65;{x};{y}M")

    def keys(self, *names: str) -> None:
        self.tmux("send-keys", "-t", "0", *names)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "0", "-l", text)

    def resize(self, cols: int, rows: int, *, demo_panel: bool = True) -> None:
        """Resize the window and wait until the app has laid itself out for it: the DEMO panel is the
        last row on a short screen (< 32 rows) and three rows high, the row before last, on a tall one."""
        self.tmux("resize-window", "-t", "0", "-x", str(cols), "-y", str(rows))
        row = -2 if rows >= 32 else -1
        demo = zh("DEMO cards:")
        self.wait(lambda s: len(lines := s.splitlines()) == rows and (demo in lines[row] or not demo_panel))
        self.wait_stable()

    def wait_stable(self, quiet: float = 0.3, timeout: float = STEP_TIMEOUT) -> str:
        """Wait until the screen did not change for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = self.screen(), time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, f"the screen kept changing:\n{last}"
            time.sleep(0.05)
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()
        return last

    def close(self) -> None:
        """Kill the tmux server (the pty's hang-up ends the app); SIGKILL our app if it lingers."""
        self.tmux("kill-server", check=False)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)  # tmux 3.3 leaves it behind
        pid = self.app_pid
        if pid is None:
            return
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, 9)  # the demo we started, by its own pid


def _children(pid: int) -> list[int]:
    """Child pids of `pid`, from /proc/*/stat (field 4 is the parent pid)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _state(pid: int) -> str:
    """The kernel's one-letter process state (R, S, T = stopped, Z = zombie)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Terminal]:
    t = Terminal(tmp_path)
    try:
        yield t
    finally:
        t.close()


def _demo_env(tmpdir: Path) -> dict[str, str]:
    # COLUMNS/LINES: pytest-xdist workers set them to 80/24, and Rich (so Textual) would take them over
    # the terminal's real size.
    dropped = {"NO_COLOR", "TEXTUAL_THEME", "KIOSK_CONFIG", "TMUX", "COLUMNS", "LINES"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        TERM="xterm-256color",
        TMPDIR=str(tmpdir),  # the demo's mkdtemp() lands here, so the test finds its workdir
        XDG_DATA_HOME=str(tmpdir / "xdg"),
        PYTHONUNBUFFERED="1",
        LANG="C.UTF-8",
    )
    return env


def _workdir(tmpdir: Path) -> Path:
    found = sorted(tmpdir.glob("family-aid-demo-*"))
    assert len(found) == 1, f"expected one demo workdir in {tmpdir}, found {found}"
    return found[0]


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def _family(central_db: Path) -> dict[str, SyntheticPerson]:
    """Household 1 as the demo seeded it (the seed is deterministic for the day), checked against the db."""
    people = generate_people(DEMO_PEOPLE, seed=1, today=dt.date.today())
    fam = {p.relation_to_head: p for p in people if p.household == 1}
    with _db(central_db) as db:
        for p in (fam["00"], fam["51"]):
            row = db.execute("SELECT certno FROM person WHERE psn_no = ?", (p.psn_no,)).fetchone()
            assert row == (p.certno,), f"the demo's person {p.psn_no} is not the seed's: {row}"
    return fam


def _sms_code_on_screen(screen: str) -> str | None:
    """The DEMO panel's SMS line wraps inside its own column, down to the bottom of the screen: read that
    column from the row where "SMS" starts."""
    lines = screen.splitlines()
    for y, line in enumerate(lines):
        if (i := line.find("SMS")) >= 0:
            x0 = cell_len(line[:i])
            text = "".join("".join(_cells(row)[x0:]).strip() for row in lines[y:])
            m = re.search(r"验证码\s*(\d{6})", text)
            return m.group(1) if m else None
    return None


def _assert_still_running(term: Terminal, pid: int, heading: str) -> None:
    for key in ("C-c", "C-q", "C-z", "C-\\"):
        term.keys(key)
        time.sleep(0.5)  # a signal or quit action would act within this
        assert not term.dead(), f"{key} ended the app (exit status {term.exit_status()})"
        assert _alive(pid) and _state(pid) != "T", f"{key} stopped or ended the app"
        term.wait(heading, timeout=5)


def _staff_exit(term: Terminal, pid: int) -> None:
    """F12, the staff PIN, and the app ends with status 0."""
    term.keys("F12")
    term.wait(zh("Staff PIN"))
    term.type(STAFF_PIN)
    term.keys("Enter")
    deadline = time.monotonic() + 30
    while not term.dead():
        assert time.monotonic() < deadline, f"the app did not end after the staff PIN:\n{term.screen()}"
        time.sleep(0.1)
    assert term.exit_status() == "0" and not _alive(pid)


def test_bind_a_father_with_an_sms_code_by_mouse_and_keys(term: Terminal, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    started = time.monotonic()
    pid = term.start([sys.executable, "-m", "kiosk", "--demo"], _demo_env(tmpdir), ROOT)

    # Attract screen with the DEMO panel.
    term.wait(
        lambda s: zh("Please insert your social security card") in s and zh("DEMO cards:") in s, START_TIMEOUT
    )
    first_paint = time.monotonic() - started
    # tmux may start a detached window at its default 80x24 whatever -x/-y said (seen under CI load):
    # set the size the taps below are written for, and wait for the app to lay itself out again.
    term.resize(COLS, ROWS)
    workdir = _workdir(tmpdir)
    central_db = workdir / "central.db"
    fam = _family(central_db)
    holder, father = fam["00"], fam["51"]
    assert holder.name not in term.screen()

    # Card 1 (the Lishui holder) by a mouse tap on the DEMO panel's "1" button; the PIN by keys.
    term.tap("1", row_with=zh("DEMO cards:"))
    term.wait(zh("Enter your card PIN"))
    term.type(DEMO_PIN)
    term.wait("● ● ● ● ● ●")
    term.keys("Enter")
    term.wait(lambda s: zh("What would you like to do?") in s and holder.name in s)

    # A citizen mid-session cannot end the app with the terminal's usual keys.
    _assert_still_running(term, pid, zh("What would you like to do?"))

    # The letter, on a short terminal where it does not fit: "agree" waits for the end of the letter.
    term.resize(80, 20)
    term.tap(zh("Bind a relative"), button=False)
    term.wait(zh("Read the letter to its end (“Next page”) to agree."))
    term.tap(zh("I have read and agree"), button=False)  # disabled: nothing happens
    time.sleep(0.5)
    term.wait(zh("Read the letter to its end (“Next page”) to agree."), timeout=2)
    term.keys("End")  # the keyboard scrolls it...
    term.wait(zh("You have reached the end of the letter."))
    term.tap(zh("Back"), button=False)
    term.wait(zh("What would you like to do?"))
    term.tap(zh("Bind a relative"), button=False)
    term.wait(
        zh("Read the letter to its end (“Next page”) to agree.")
    )  # a fresh letter screen, gate on again
    with _db(central_db) as db:
        openings = [
            body[:6] for (body,) in db.execute("SELECT body FROM consent_letter WHERE lang LIKE 'zh%'")
        ]
    where = next(filter(None, (term.locate(o, button=False) for o in openings)), None)
    assert where is not None, f"the letter's text is not on the screen:\n{term.last_screen}"
    x, y = where
    for _ in range(30):  # ...and so does the mouse wheel, over the letter's text
        term.wheel_down(x, y)
        time.sleep(0.05)
        if zh("You have reached the end of the letter.") in term.screen():
            break
    term.wait(zh("You have reached the end of the letter."), timeout=5)
    term.resize(COLS, ROWS)
    term.tap(zh("I have read and agree"))

    # One area (Lishui, where he is insured): no area step. Relationship (father), then the father's ID
    # number typed on the keyboard.
    term.wait(zh("Who is the relative to you?"))
    term.tap(relation("51").name("zh-CN"))
    term.wait(zh("The relative's ID number"))
    term.type(father.certno)
    shown = f"{father.certno[:6]} {father.certno[6:14]} {father.certno[14:]}"
    term.wait(shown)
    term.keys("Enter")

    # The person is shown masked with the verification: yes, send the code.
    confirm = term.wait(zh("The relative confirms"))
    assert father.certno not in confirm and father.name not in confirm
    assert f"{father.certno[:6]}********{father.certno[-4:]}" in confirm
    term.tap(zh("Yes, send the code"))

    # The code: on the DEMO panel's SMS line, and the same in the demo central's sms.jsonl.
    code_on_screen: list[str] = []
    term.wait(lambda s: bool((c := _sms_code_on_screen(s)) and not code_on_screen.append(c)))
    sent = [json.loads(line) for line in (workdir / "sms.jsonl").read_text("utf-8").splitlines()]
    to_father = [m for m in sent if m["phone"] == father.phone]
    assert to_father and f"验证码 {code_on_screen[0]}" in to_father[-1]["body"]
    term.wait(lambda s: zh("OK") in s and "_ _ _ _ _ _" in s)
    term.type(code_on_screen[0])
    term.wait(" ".join(code_on_screen[0]))
    term.tap(zh("OK"))

    # Confirm the binding; the receipt says it is done.
    term.wait(zh("Confirm the binding"))
    term.tap(zh("Confirm binding"))
    receipt = term.wait(zh("The binding is made."))
    assert zh("Receipt number: {no}").split("{")[0] in receipt, receipt

    # Central has it: one active binding, holder = household 1's head, relative = the father (beside the
    # demo's past one, with his wife).
    with _db(central_db) as db:
        rows = db.execute(
            "SELECT holder_psn_no, relative_psn_no, relation_code, admdvs, status FROM binding"
            " WHERE relative_psn_no != ?",
            (fam["10"].psn_no,),
        ).fetchall()
    assert rows == [(holder.psn_no, father.psn_no, "51", "331100", "active")]

    # Finish: the card is still in, so the attract screen asks for it; the DEMO panel takes it out.
    term.tap(zh("Finish"))
    term.wait(zh("Please take your card."))
    term.tap(zh("Remove"))
    attract = term.wait(zh("Please insert your social security card"))
    assert holder.name not in attract and father.certno[-4:] not in attract.split(zh("DEMO cards:"))[0]
    _assert_still_running(term, pid, zh("Please insert your social security card"))

    # F12 + a wrong staff PIN is refused; the right one ends the app, which cleans up its workdir.
    term.keys("F12")
    term.wait(zh("Staff PIN"))
    term.type("111111")
    term.keys("Enter")
    term.wait(zh("Wrong staff PIN."))
    assert not term.dead()
    term.type(STAFF_PIN)
    term.wait("● ● ● ● ● ●")
    term.keys("Enter")
    deadline = time.monotonic() + 30
    while not term.dead():
        assert time.monotonic() < deadline, f"the app did not end after the staff PIN:\n{term.screen()}"
        time.sleep(0.1)
    assert term.exit_status() == "0"
    assert not _alive(pid)
    assert not workdir.exists(), "the demo left its workdir behind"
    print(f"first paint {first_paint:.1f} s, whole walk {time.monotonic() - started:.1f} s")


@pytest.mark.xdist_group("pcscd")
def test_demo_reading_a_virtual_card_through_pcscd(term: Terminal, tmp_path: Path, vcards: object) -> None:
    """`kiosk --demo --pcsc` in tmux and `kiosk virtual-card` in vpcd's reader: the card is read through the
    real pcscd, the PIN checked on the (virtual) chip, and pulling the card out ends the visit."""
    _ = vcards  # the readers are empty before and after
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = _demo_env(tmpdir)
    pid = term.start([sys.executable, "-m", "kiosk", "--demo", "--pcsc"], env, ROOT)
    term.wait(zh("Please insert your social security card"), START_TIMEOUT)
    # no simulated deck: the cards come through pcscd; the panel still shows the SMS central "sent"
    assert zh("DEMO cards:") not in term.screen()
    assert zh("DEMO: cards come through the PC/SC reader.") in term.screen()
    term.resize(COLS, ROWS, demo_panel=False)
    holder = _family(_workdir(tmpdir) / "central.db")["00"]
    card = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "virtual-card", "--person", "1"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        term.wait(zh("Enter your card PIN"))
        term.type("999999")
        term.keys("Enter")
        term.wait(lambda s: "2" in s and zh("Enter your card PIN") in s)  # tries left, from the chip
        term.type(DEMO_PIN)
        term.keys("Enter")
        term.wait(lambda s: zh("What would you like to do?") in s and holder.name in s)
    finally:
        card.terminate()  # the card is pulled out
        card.communicate(timeout=20)
    term.wait(lambda s: zh("Please insert your social security card") in s and holder.name not in s)
    assert card.returncode == 0
    _staff_exit(term, pid)


@pytest.mark.xdist_group("pcscd")
def test_the_production_kiosk_binds_with_a_card_in_pcscd(term: Terminal, tmp_path: Path, vcards: Any) -> None:
    """`python -m kiosk --config kiosk.toml` with `reader = "pcsc"`, as in a hall: central runs apart
    (`kiosk central serve`, provisioned with `central seed` and `add-kiosk`), the card sits in vpcd's reader
    of the real pcscd, and a citizen binds her father by keys and taps."""
    from devices.virtual_card import CardApplet
    from kiosk.demo import card_person
    from kiosk.staff import hash_pin
    from tests.support.services import CentralServer

    def kiosk_cmd(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    kiosk_cmd("central", "seed", "--database-url", db_url, "--people", "120")
    secret = kiosk_cmd("central", "add-kiosk", "hall-1-terminal-1", "--database-url", db_url).strip()
    secret_file = tmp_path / "kiosk.secret"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    sms_file = tmp_path / "sms.jsonl"
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        '[kiosk]\nreader = "pcsc"\n'
        'holder_reader = "Virtual PCD 00 00"\nrelative_reader = "Virtual PCD 00 01"\n'
        f'staff_pin_hash = "{hash_pin(STAFF_PIN, iterations=1000)}"\nlog_file = "{tmp_path / "kiosk.log"}"\n'
        f'[terminal]\nkiosk_id = "hall-1-terminal-1"\nsecret_file = "{secret_file}"\n'
        f'[store]\npath = "{tmp_path / "terminal.db"}"\n[sync]\ninterval_s = 1.0\n'
    )
    people = generate_people(120, seed=1, today=dt.date.today())
    fam = {p.relation_to_head: p for p in people if p.household == 1}
    holder, father = fam["00"], fam["51"]
    with CentralServer(db_url, extra_args=["--sms-file", str(sms_file)], log_dir=tmp_path) as central:
        text = toml.read_text().replace("[terminal]\n", f'[terminal]\ncentral_url = "{central.url}"\n')
        toml.write_text(text)
        env = _demo_env(tmp_path)
        pid = term.start([sys.executable, "-m", "kiosk", "--config", str(toml)], env, ROOT)
        term.wait(lambda s: zh("Please insert your social security card") in s and zh("Online") in s, 60)
        term.resize(COLS, ROWS, demo_panel=False)
        assert "DEMO" not in term.screen()

        person, generation, _locked = card_person("1")
        card = vcards(CardApplet(person, generation=generation))
        card.insert()
        term.wait(zh("Enter your card PIN"))
        term.type(DEMO_PIN)
        term.keys("Enter")
        term.wait(lambda s: zh("What would you like to do?") in s and holder.name in s)
        term.tap(zh("Bind a relative"), button=False)
        term.wait(zh("I have read and agree"))
        term.keys("End")  # at 120x40 the whole letter fits: the gate is open at once
        term.wait(zh("You have reached the end of the letter."))
        term.tap(zh("I have read and agree"))
        term.wait(zh("Who is the relative to you?"))
        term.tap(relation("51").name("zh-CN"))
        term.wait(zh("The relative's ID number"))
        term.type(father.certno)
        term.keys("Enter")
        term.wait(zh("The relative confirms"))
        term.tap(zh("Yes, send the code"))
        term.wait(lambda s: zh("OK") in s and "_ _ _ _ _ _" in s)
        sent = [json.loads(line) for line in sms_file.read_text("utf-8").splitlines()]
        code = re.search(r"验证码\s*(\d{6})", [m for m in sent if m["phone"] == father.phone][-1]["body"])
        assert code is not None
        term.type(code.group(1))
        term.tap(zh("OK"))
        term.wait(zh("Confirm the binding"))
        term.tap(zh("Confirm binding"))
        term.wait(zh("The binding is made."))
        with _db(tmp_path / "central.db") as db:
            rows = db.execute(
                "SELECT holder_psn_no, relative_psn_no, status FROM binding WHERE relative_psn_no != ?",
                (fam["10"].psn_no,),  # the demo's past binding, with his wife
            ).fetchall()
        assert rows == [(holder.psn_no, father.psn_no, "active")]

        card.remove()  # the card out: the visit ends, nothing personal stays on the screen
        attract = term.wait(zh("Please insert your social security card"))
        assert holder.name not in attract and father.certno[-4:] not in attract
        _staff_exit(term, pid)
    log = (tmp_path / "kiosk.log").read_text("utf-8")
    assert father.certno not in log and holder.certno not in log  # the log file exists and masks numbers
