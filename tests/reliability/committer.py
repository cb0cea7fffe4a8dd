"""Child of the kill -9 test: commits bind submissions through the real terminal Store, forever.

Each submission's request_id is written to stdout as ``ack <request_id>`` only AFTER `submit_bind`
returned (the citizen's receipt would be printed at that moment), in one write(2) so a line is never torn.
The parent kills the process with SIGKILL at a random moment and checks the store.

Modes:
  committer.py STORE KEY [--migrate]   one process commits until killed (``--migrate`` opens the store
                                       the way the kiosk does, running the migrations first)
  committer.py STORE KEY --serve       a fork server: imports once, then for every ``run`` line on stdin
                                       forks a fresh child that opens the store and commits until killed;
                                       prints ``pid N`` for it and ``exit N STATUS`` once it is reaped.
                                       Python's start-up costs ~1 s on a busy 2-core machine, a fork ~10 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import os
import sys
import traceback
from pathlib import Path

from kiosk.config import StoreConfig
from kiosk.domain.idnumber import make_id_number
from kiosk.store.crypto import FieldCipher
from kiosk.store.db import make_store_engine
from kiosk.store.repository import BindDraft, Store

AREA = "371500"
LETTER_SHA = hashlib.sha256(b"sd-family-aid v1").hexdigest()


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # unbuffered, one write per line


def commit_forever(store_path: Path, key_path: Path, migrate: bool) -> None:
    if migrate:
        store = Store.open(StoreConfig(path=str(store_path), key_file=str(key_path)))
    else:
        store = Store(make_store_engine(store_path), FieldCipher(key_path.read_bytes().strip()))
    pid = os.getpid()
    born = dt.date(1980, 1, 1)
    for i in itertools.count():
        draft = BindDraft(
            holder_psn_no=f"KH{pid:07d}{i:07d}",
            holder_name_masked="测*",
            relative_certno=make_id_number("371502", born, i % 1000),
            relative_name_masked="测*",
            relation_code="10",
            admdvs=AREA,
            letter_id="sd-family-aid",
            letter_version=1,
            letter_sha256=LETTER_SHA,
        )
        submission = store.submit_bind(draft, online=True)
        _say(f"ack {submission.request_id}")  # acknowledged: the transaction has committed


def _child(store_path: Path, key_path: Path, migrate: bool) -> None:
    try:
        commit_forever(store_path, key_path, migrate)
    except BaseException:
        _say("error " + traceback.format_exc().replace("\n", " | "))
        os._exit(3)


def serve(store_path: Path, key_path: Path) -> None:
    _say("ready")
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            return
        if command not in ("run", "run-migrate"):
            _say(f"error unknown command {command!r}")
            continue
        pid = os.fork()
        if pid == 0:
            _child(store_path, key_path, command == "run-migrate")
            os._exit(4)  # not reached
        _say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"exit {pid} {status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("key", type=Path)
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.store, args.key)
    else:
        _child(args.store, args.key, args.migrate)


if __name__ == "__main__":
    main()
