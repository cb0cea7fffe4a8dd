"""The `kiosk` command: the composition root that wires configuration, services and (later) the screens."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import ConfigError, load_config
from kiosk.logs import configure as configure_logging

if TYPE_CHECKING:
    from devices.pcsc import PcscReader
    from kiosk.config import KioskConfig

log = logging.getLogger("kiosk")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Family mutual-aid (家庭共济) kiosk")
    p.add_argument("--config", help="path of kiosk.toml (default: $KIOSK_CONFIG, else ./kiosk.toml)")
    p.add_argument("--demo", action="store_true", help="run the whole system on this machine with demo data")
    p.add_argument(
        "--pcsc",
        action="store_true",
        help="with --demo: read cards through pcscd (e.g. `kiosk virtual-card`) instead of the DEMO panel",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command")

    from devices.virtual_card import Fault

    vc = sub.add_parser(
        "virtual-card",
        help="a virtual social security card in vpcd's reader (tests, demos, staff training on a real pcscd)",
    )
    vc.add_argument("--host", default="127.0.0.1", help="where vpcd listens (default 127.0.0.1)")
    vc.add_argument(
        "--port", type=int, default=35963, help='35963 = "Virtual PCD 00 00" (holder), 35964 = "... 00 01"'
    )
    vc.add_argument("--gen", type=int, choices=(2, 3), help="card generation (default: the person's card)")
    vc.add_argument("--t0", action="store_true", help="answer like a T=0 card (61xx / 6Cxx)")
    vc.add_argument("--pin", default="123456", help="the card PIN (6 digits, default 123456)")
    vc.add_argument(
        "--person",
        help="ID number of a seeded person, or 1-7 for the demo cards (default 1, the Lishui holder)",
    )
    vc.add_argument(
        "--people", type=int, default=120, help="how many people were seeded (default 120, as the demo)"
    )
    vc.add_argument("--seed", type=int, default=1, help="the seed's random seed (default 1)")
    vc.add_argument("--locked", action="store_true", help="the PIN is blocked (no tries left)")
    vc.add_argument("--expired", action="store_true", help="the card's validity ended yesterday")
    vc.add_argument(
        "--not-sscard", action="store_true", help="a card without the social security application"
    )
    vc.add_argument(
        "--fault",
        choices=[f.value for f in Fault],
        default="none",
        help="answer the card-number read with a broken answer (tests)",
    )

    central = sub.add_parser("central", help="the reference central medical-insurance service")
    csub = central.add_subparsers(dest="central_command", required=True)

    def db_arg(cp: argparse.ArgumentParser) -> None:
        cp.add_argument("--database-url", help="SQLAlchemy URL (default: [central] database_url)")

    serve = csub.add_parser("serve", help="run the central service (runs migrations first)")
    db_arg(serve)
    serve.add_argument("--host", help="listen address (default: [central] host)")
    serve.add_argument("--port", type=int, help="listen port (default: [central] port)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument("--sms-file", help="write SMS as JSON lines to this file instead of the log")
    serve.add_argument("--seed-people", type=int, default=0, help="seed this many synthetic people first")

    seed = csub.add_parser("seed", help="load areas and letters, and generate synthetic people")
    db_arg(seed)
    seed.add_argument("--people", type=int, default=200, help="how many people (default 200)")
    seed.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same people")
    seed.add_argument("--list", action="store_true", help="print the generated people as JSON lines")

    add = csub.add_parser("add-kiosk", help="register a terminal and print its secret once")
    db_arg(add)
    add.add_argument("kiosk_id")

    def config_arg(cp: argparse.ArgumentParser) -> None:
        cp.add_argument("--config", default=argparse.SUPPRESS, help="path of kiosk.toml")

    db = sub.add_parser("db", help="the terminal's local store")
    dsub = db.add_subparsers(dest="db_command", required=True)
    config_arg(dsub.add_parser("upgrade", help="create or migrate the store (WAL, synchronous=FULL)"))

    sync = sub.add_parser("sync", help="push queued requests to central and pull policy")
    config_arg(sync)
    sync.add_argument("--once", action="store_true", help="one cycle, then exit (0 when the queue is empty)")

    config_arg(
        sub.add_parser("doctor", help="check config, store, central link and queue; exit 0 when healthy")
    )

    call = csub.add_parser("call", help="send one signed request to a central service and print the answer")
    call.add_argument("method", choices=["GET", "POST"])
    call.add_argument("path", help="e.g. /v1/areas")
    call.add_argument("body", nargs="?", help="JSON body for POST")
    call.add_argument("--url", help="central URL (default: [terminal] central_url)")
    call.add_argument("--kiosk-id", help="default: [terminal] kiosk_id")
    call.add_argument("--secret-file", help="default: [terminal] secret_file; or $KIOSK_SECRET")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.demo:
        return _run_kiosk(config, demo=True, pcsc=args.pcsc)
    if args.command == "virtual-card":
        return _virtual_card(args)
    if args.command == "central":
        return _central(args, config)
    if args.command == "db":
        from kiosk.store.db import upgrade

        upgrade(config.store.resolved_path())
        print(f"store {config.store.resolved_path()} is at the latest schema")
        return 0
    if args.command == "sync":
        return _sync(config, args.once)
    if args.command == "doctor":
        from kiosk.doctor import report, run_checks

        text, code = report(run_checks(config))
        print(text)
        return code
    if args.command == "hash-pin":
        return _hash_pin()
    return _run_kiosk(config, demo=False)


def _central(args: argparse.Namespace, config: object) -> int:
    from kiosk.config import Config

    assert isinstance(config, Config)  # noqa: S101 - narrowing for the type checker
    cc = config.central
    url = getattr(args, "database_url", None) or cc.resolved_database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if args.central_command == "serve":
        return _serve(args, cc, url)
    if args.central_command == "seed":
        return _seed(url, args.people, args.seed, args.list)
    if args.central_command == "add-kiosk":
        return _add_kiosk(url, args.kiosk_id)
    if args.central_command == "call":
        return _call(args, config)
    if args.central_command == "demo":
        from kiosk.central.demo import run_demo

        return run_demo()
    return 2


def _serve(args: argparse.Namespace, cc: object, url: str) -> int:
    import uvicorn

    from kiosk.central.app import CentralSettings, create_app
    from kiosk.config import CentralConfig

    assert isinstance(cc, CentralConfig)  # noqa: S101
    sms_file = args.sms_file or (cc.sms_file if cc.sms_gateway == "file" else None)
    settings = CentralSettings(
        database_url=url,
        sms_gateway="file" if sms_file else "log",
        sms_file=Path(sms_file) if sms_file else None,
    )
    secret = os.environ.get(cc.secret_key_env)
    if secret:
        settings.secret_key = secret
    elif args.workers > 1:
        print(f"kiosk: set ${cc.secret_key_env} when running several workers", file=sys.stderr)
        return 2
    from kiosk.central.db import upgrade

    upgrade(url)
    if args.seed_people:
        _seed(url, args.seed_people, 1, False)
    settings.run_migrations = False
    host, port = args.host or cc.host, args.port or cc.port
    if args.workers > 1:
        os.environ["KIOSK_CENTRAL_DATABASE_URL"] = url
        os.environ["KIOSK_CENTRAL_SECRET_KEY"] = settings.secret_key
        if sms_file:
            os.environ["KIOSK_CENTRAL_SMS_FILE"] = str(sms_file)
        uvicorn.run("kiosk.central.asgi:app", host=host, port=port, workers=args.workers, log_level="warning")
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    return 0


def _seed(url: str, people: int, seed: int, list_people: bool) -> int:
    import datetime as dt

    from kiosk.central.db import make_engine, make_sessionmaker, upgrade
    from kiosk.central.seed import generate_people, load_reference_data, seed_people

    if people < 0:
        print("kiosk: --people must not be negative", file=sys.stderr)
        return 2
    upgrade(url)
    generated = generate_people(people, seed)
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            load_reference_data(db, dt.datetime.now(dt.UTC))
            added = seed_people(db, generated)
    finally:
        engine.dispose()
    if list_people:
        for p in generated:
            row = (
                {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in p.__dict__.items()}
                if hasattr(p, "__dict__")
                else _row(p)
            )
            print(json.dumps(row, ensure_ascii=False))
    print(
        f"seeded {added} new people ({len(generated)} generated with seed {seed}); areas and letters loaded",
        file=sys.stderr,
    )
    return 0


def _row(p: object) -> dict[str, object]:
    import dataclasses
    import datetime as dt

    assert dataclasses.is_dataclass(p)  # noqa: S101
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in dataclasses.asdict(p).items()  # type: ignore[arg-type]
    }


def _add_kiosk(url: str, kiosk_id: str) -> int:
    import datetime as dt

    from kiosk.central.auth import register_kiosk
    from kiosk.central.db import make_engine, make_sessionmaker, upgrade

    upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            secret = register_kiosk(db, kiosk_id, dt.datetime.now(dt.UTC))
    except ValueError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(secret)
    print(f"kiosk {kiosk_id!r} registered; the secret above is shown only once", file=sys.stderr)
    return 0


def _call(args: argparse.Namespace, config: object) -> int:
    from kiosk.config import Config
    from kiosk.sync.client import central_client

    assert isinstance(config, Config)  # noqa: S101
    tc = config.terminal
    kiosk_id = args.kiosk_id or tc.kiosk_id
    secret_file = args.secret_file or tc.secret_file
    secret = Path(secret_file).read_text().strip() if secret_file else os.environ.get("KIOSK_SECRET", "")
    if not kiosk_id or not secret:
        print("kiosk: give --kiosk-id and --secret-file (or $KIOSK_SECRET)", file=sys.stderr)
        return 2
    with central_client(args.url or tc.central_url, kiosk_id, secret) as client:
        if args.method == "GET":
            response = client.get(args.path)
        else:
            response = client.post(
                args.path, content=(args.body or "{}").encode(), headers={"Content-Type": "application/json"}
            )
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0 if response.is_success else 1


def _sync(config: object, once: bool) -> int:
    from kiosk.config import Config
    from kiosk.store.repository import Store
    from kiosk.sync.client import terminal_client
    from kiosk.sync.worker import SyncWorker

    assert isinstance(config, Config)  # noqa: S101
    try:
        client = terminal_client(config)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    store = Store.open(config.store)
    worker = SyncWorker(store, client, config.sync)
    try:
        if not once:
            worker.run_forever()
            return 0
        report = worker.run_once()
        count, _oldest = store.queue_stats()
        print(
            f"sent {report.sent}: {report.accepted} accepted, {report.rejected} rejected, "
            f"{report.retry_later} to retry; {count} still queued"
            + (f"; {report.error}" if report.error else "")
        )
        for request_id in report.conflicts:
            print(
                f"conflict: request {request_id} was already used at central with another body",
                file=sys.stderr,
            )
        return 0 if count == 0 and report.error is None else 1
    except KeyboardInterrupt:
        return 0
    finally:
        client.close()
        store.close()


def _hash_pin() -> int:
    import getpass

    from kiosk.staff import hash_pin

    pin = getpass.getpass("staff PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not (pin.isdigit() and 6 <= len(pin) <= 12):
        print("kiosk: a staff PIN is 6 to 12 digits", file=sys.stderr)
        return 2
    print(hash_pin(pin))
    return 0


def _virtual_card(args: argparse.Namespace) -> int:
    import datetime as dt
    import signal

    from devices.virtual_card import CardApplet, Fault, VirtualCard, expired
    from kiosk.demo import card_person

    if not (len(args.pin) == 6 and args.pin.isdigit()):
        print("kiosk: --pin must be 6 digits", file=sys.stderr)
        return 2
    try:
        person, generation, locked = card_person(args.person, people=args.people, seed=args.seed)
    except LookupError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    if args.expired:
        person = expired(person, dt.date.today())
    applet = CardApplet(
        person,
        generation=args.gen or generation,
        pin=args.pin,
        tries_left=0 if (args.locked or locked) else 3,
        t0=args.t0,
        fault=Fault(args.fault),
        social_security=not args.not_sscard,
    )
    card = VirtualCard(applet, args.host, args.port)
    card.insert()
    from kiosk.domain.masking import mask_name

    print(
        f"virtual card {person.card_no} ({mask_name(person.name)}, area {person.issuing_admdvs}, "
        f"generation {applet.generation}, {'T=0' if args.t0 else 'T=1'}) inserted into vpcd at "
        f"{args.host}:{args.port}",
        file=sys.stderr,
    )
    if not card.wait_connected(3):
        print("  waiting for vpcd (is pcscd with vsmartcard-vpcd running?)...", file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if sys.stdin.isatty():
            print("  Enter: take the card out / put it back; Ctrl+C: quit", file=sys.stderr)
            while True:
                sys.stdin.readline()
                if card.inserted:
                    card.remove()
                    print("  card taken out", file=sys.stderr)
                else:
                    card.insert()
                    print("  card inserted", file=sys.stderr)
        else:
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        card.remove()
    return 0


def _log_to_file(path: Path) -> None:
    """While the screens own the terminal, log lines go to a file (stderr would scribble over the UI)."""
    from kiosk.logs import RedactIdNumbers

    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactIdNumbers())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


def _pcsc_reader(config: KioskConfig) -> PcscReader:
    from devices.pcsc import PcscReader

    return PcscReader(holder_reader=config.holder_reader, relative_reader=config.relative_reader)


def _run_kiosk(config: object, *, demo: bool, pcsc: bool = False) -> int:
    """Start the citizen's screens (the only place the UI toolkit is imported)."""
    import dataclasses

    from kiosk.config import Config, ConfigError

    assert isinstance(config, Config)  # noqa: S101
    if not demo:
        if config.kiosk.reader != "pcsc":
            print(
                'kiosk: the simulated reader is for --demo only; set [kiosk] reader = "pcsc"', file=sys.stderr
            )
            return 2
        from kiosk.services import Backend
        from kiosk.store.repository import Store
        from kiosk.sync.client import terminal_client
        from kiosk.sync.worker import SyncWorker

        try:
            client = terminal_client(config)
        except ConfigError as exc:
            print(f"kiosk: configuration error: {exc}", file=sys.stderr)
            return 2
        try:
            reader = _pcsc_reader(config.kiosk)
        except ImportError as exc:
            print(f"kiosk: the PC/SC library is missing ({exc}); install pcscd and pyscard", file=sys.stderr)
            return 2
        store = Store.open(config.store)
        worker = SyncWorker(store, client, config.sync)
        _log_to_file(
            Path(config.kiosk.log_file)
            if config.kiosk.log_file
            else config.store.resolved_path().with_suffix(".log")
        )
        sync_thread = threading.Thread(target=worker.run_forever, name="sync-worker", daemon=True)
        sync_thread.start()
        from screens.app import KioskApp

        app = KioskApp(Backend(client, store, worker), reader, config.kiosk)
        try:
            app.run()
        finally:
            worker.stop()
            sync_thread.join(timeout=5)
            reader.close()
            client.close()
            store.close()
        return 0

    from kiosk.demo import build_demo
    from kiosk.staff import hash_pin
    from screens.app import KioskApp
    from screens.widgets.demo import DemoPanel

    print("Starting the demo (embedded central service, generated people)...", file=sys.stderr)
    world = build_demo()
    world.start_sync()
    _log_to_file(world.workdir / "kiosk.log")
    kiosk_config = dataclasses.replace(
        config.kiosk, reader="pcsc" if pcsc else "simulated", staff_pin_hash=hash_pin("000000")
    )
    if pcsc:
        reader = _pcsc_reader(kiosk_config)
        app = KioskApp(
            world.backend, reader, kiosk_config, demo_panel=lambda: DemoPanel(None, world.latest_sms)
        )
    else:
        app = KioskApp(
            world.backend,
            world.reader,
            kiosk_config,
            demo_panel=lambda: DemoPanel(world.reader, world.latest_sms),
        )
    try:
        app.run()
    finally:
        if pcsc:
            reader.close()
        world.close()
    return 0
