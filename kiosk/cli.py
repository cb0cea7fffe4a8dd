"""The `kiosk` command: the composition root that wires configuration, services and the screens."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import Config, ConfigError, KioskConfig, load_config
from kiosk.logs import configure as configure_logging

if TYPE_CHECKING:
    from devices.pcsc import PcscReader

Handler = Callable[[argparse.Namespace, Config], int]
"""What a command does, given its parsed arguments and kiosk.toml; returns the exit status."""


@dataclass(frozen=True, slots=True)
class _Command:
    path: tuple[str, ...]
    help: str
    handler: Handler
    arguments: Callable[[argparse.ArgumentParser], None] | None
    reads_config: bool
    # An optional positional that may also come after the options (argparse alone takes it only before).
    late_positional: str | None


_COMMANDS: list[_Command] = []
_GROUPS: dict[tuple[str, ...], str] = {
    ("central",): "the reference central medical-insurance service",
    ("db",): "the terminal's local store",
}


def command(
    path: str,
    help: str,
    arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    *,
    reads_config: bool = True,
    late_positional: str | None = None,
) -> Callable[[Handler], Handler]:
    """Register `kiosk PATH` with its arguments and the handler below it: a parser and its handler are one
    registration, so neither exists without the other. A command that does not read kiosk.toml
    (`reads_config=False`) still runs when the file is broken, and is handed the defaults."""

    def register(handler: Handler) -> Handler:
        _COMMANDS.append(
            _Command(tuple(path.split()), help, handler, arguments, reads_config, late_positional)
        )
        return handler

    return register


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="kiosk", description="Family mutual-aid (家庭共济) kiosk")
    top.add_argument("--config", help="path of kiosk.toml (default: $KIOSK_CONFIG, else ./kiosk.toml)")
    top.add_argument("--demo", action="store_true", help="the whole system on this machine, with demo data")
    top.add_argument(
        "--pcsc",
        action="store_true",
        help="with --demo: read cards through pcscd (e.g. `kiosk virtual-card`) instead of the DEMO panel",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    top.set_defaults(handler=_kiosk, command=None, reads_config=True, late_positional=None)
    groups: dict[tuple[str, ...], argparse._SubParsersAction[argparse.ArgumentParser]] = {
        (): top.add_subparsers(title="commands", metavar="COMMAND")
    }
    for spec in _COMMANDS:
        for depth in range(1, len(spec.path)):
            group = spec.path[:depth]
            if group not in groups:
                about = _GROUPS[group]
                parser = groups[group[:-1]].add_parser(group[-1], help=about, description=about)
                groups[group] = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
        leaf = groups[spec.path[:-1]].add_parser(spec.path[-1], help=spec.help, description=spec.help)
        if spec.reads_config:
            leaf.add_argument("--config", default=argparse.SUPPRESS, help="path of kiosk.toml")
        if spec.arguments is not None:
            spec.arguments(leaf)
        leaf.set_defaults(
            handler=spec.handler,
            command=" ".join(spec.path),
            reads_config=spec.reads_config,
            late_positional=spec.late_positional,
        )
    return top


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    late = args.late_positional
    if late and extra and getattr(args, late) is None and (extra[0] == "-" or not extra[0].startswith("-")):
        setattr(args, late, extra.pop(0))
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is not None and (args.demo or args.pcsc):
        parser.error(f"--demo and --pcsc start the kiosk; they do not go with `kiosk {args.command}`")
    if args.pcsc and not args.demo:
        parser.error("--pcsc goes with --demo (the hall's kiosk always reads cards through pcscd)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    configure_logging(args.verbose)
    config = Config()
    if args.reads_config:
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            return _config_error(exc)
    handler: Handler = args.handler
    return handler(args, config)


def _config_error(exc: ConfigError) -> int:
    print(f"kiosk: configuration error in {exc}", file=sys.stderr)
    return 2


def _fail(message: str, code: int = 2) -> int:
    print(f"kiosk: {message}", file=sys.stderr)
    return code


def _kiosk(args: argparse.Namespace, config: Config) -> int:
    """`kiosk` without a command: the citizen's screens (`--demo`: with everything on this machine)."""
    return _run_kiosk(config, demo=args.demo, pcsc=args.pcsc)


# --- the terminal -------------------------------------------------------------------------------------


@command("db upgrade", "create or migrate the store (WAL, synchronous=FULL)")
def _db_upgrade(args: argparse.Namespace, config: Config) -> int:
    from kiosk.store.db import upgrade

    upgrade(config.store.resolved_path())
    print(f"store {config.store.resolved_path()} is at the latest schema")
    return 0


def _sync_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true", help="one cycle, then exit (0 when the queue is empty)")


@command("sync", "push queued requests to central and pull policy", _sync_arguments)
def _sync(args: argparse.Namespace, config: Config) -> int:
    from kiosk.store.repository import Store
    from kiosk.sync.client import terminal_client
    from kiosk.sync.worker import SyncWorker

    try:
        client = terminal_client(config)
    except ConfigError as exc:
        return _config_error(exc)
    store = Store.open(config.store)
    worker = SyncWorker(store, client, config.sync)
    try:
        if not args.once:
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


@command("doctor", "check config, store, central link and queue; exit 0 when healthy")
def _doctor(args: argparse.Namespace, config: Config) -> int:
    from kiosk.doctor import report, run_checks

    text, code = report(run_checks(config))
    print(text)
    return code


def _hash_pin_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdin", action="store_true", help="read the PIN as one line of stdin (for scripts)")


@command(
    "hash-pin",
    "ask the staff PIN twice (not shown) and print its PBKDF2 hash for [kiosk] staff_pin_hash",
    _hash_pin_arguments,
    reads_config=False,
)
def _hash_pin(args: argparse.Namespace, config: Config) -> int:
    import getpass

    from kiosk.staff import hash_pin, pin_problem

    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("staff PIN: ")
        if pin_problem(pin) is None and getpass.getpass("the same PIN again: ") != pin:
            return _fail("the two PINs differ; nothing was hashed")
    if (problem := pin_problem(pin)) is not None:
        return _fail(problem)
    print(hash_pin(pin))
    print('kiosk.toml: [kiosk] staff_pin_hash = "<the line above>"', file=sys.stderr)
    return 0


# --- the reference central service --------------------------------------------------------------------


def _database_url_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", help="SQLAlchemy URL (default: [central] database_url)")


def _database_url(args: argparse.Namespace, config: Config) -> str:
    """--database-url, else [central]'s; a SQLite file's folder is made (the default is in data_dir)."""
    url: str = args.database_url or config.central.resolved_database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    _database_url_argument(p)
    p.add_argument("--host", help="listen address (default: [central] host)")
    p.add_argument("--port", type=int, help="listen port (default: [central] port)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--sms-file", help="write SMS as JSON lines to this file instead of the log")
    p.add_argument("--seed-people", type=int, default=0, help="seed this many synthetic people first")


@command("central serve", "run the central service (runs migrations first)", _serve_arguments)
def _serve(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    from kiosk.central.app import CentralSettings, create_app
    from kiosk.central.db import upgrade

    cc = config.central
    url = _database_url(args, config)
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
        return _fail(f"set ${cc.secret_key_env} when running several workers")
    upgrade(url)
    if args.seed_people:
        _seed_people(url, args.seed_people, 1, list_people=False)
    settings.run_migrations = False
    host, port = args.host or cc.host, args.port or cc.port
    if args.workers > 1:
        os.environ["KIOSK_CENTRAL_DATABASE_URL"] = url
        os.environ["KIOSK_CENTRAL_SECRET_KEY"] = settings.secret_key
        if sms_file:
            os.environ["KIOSK_CENTRAL_SMS_FILE"] = str(sms_file)
        uvicorn.run(
            "kiosk.central.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="warning",
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    return 0


def _seed_arguments(p: argparse.ArgumentParser) -> None:
    _database_url_argument(p)
    p.add_argument("--people", type=int, default=200, help="how many people (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same people")
    p.add_argument("--list", action="store_true", help="print the generated people as JSON lines")


@command("central seed", "load areas and letters, and generate synthetic people", _seed_arguments)
def _seed(args: argparse.Namespace, config: Config) -> int:
    if args.people < 0:
        return _fail("--people must not be negative")
    return _seed_people(_database_url(args, config), args.people, args.seed, list_people=args.list)


def _seed_people(url: str, people: int, seed: int, *, list_people: bool) -> int:
    import dataclasses
    import datetime as dt

    from kiosk.central.seed import seed_database

    generated, added, _ = seed_database(url, people, seed)
    if list_people:
        for person in generated:
            row = {
                k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in dataclasses.asdict(person).items()
            }
            print(json.dumps(row, ensure_ascii=False))
    print(
        f"seeded {added} new people ({len(generated)} generated with seed {seed}); areas and letters loaded",
        file=sys.stderr,
    )
    return 0


def _add_kiosk_arguments(p: argparse.ArgumentParser) -> None:
    _database_url_argument(p)
    p.add_argument("kiosk_id")


@command("central add-kiosk", "register a terminal and print its secret once", _add_kiosk_arguments)
def _add_kiosk(args: argparse.Namespace, config: Config) -> int:
    import datetime as dt

    from kiosk.central.auth import register_kiosk
    from kiosk.central.db import make_engine, make_sessionmaker, upgrade

    url = _database_url(args, config)
    upgrade(url)
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            secret = register_kiosk(db, args.kiosk_id, dt.datetime.now(dt.UTC))
    except ValueError as exc:
        return _fail(str(exc), 1)
    finally:
        engine.dispose()
    print(secret)
    print(f"kiosk {args.kiosk_id!r} registered; the secret above is shown only once", file=sys.stderr)
    return 0


def _call_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", choices=["GET", "POST"])
    p.add_argument("path", help="e.g. /v1/areas")
    p.add_argument(
        "body",
        nargs="?",
        help="JSON body of a POST, before or after the options; `-` (or none, with stdin piped) reads stdin",
    )
    p.add_argument("--body-file", help="read the JSON body of a POST from this file")
    p.add_argument("--url", help="central URL (default: [terminal] central_url)")
    p.add_argument("--kiosk-id", help="default: [terminal] kiosk_id")
    p.add_argument(
        "--secret-file",
        help="file holding the kiosk secret (default: [terminal] secret_file, else $KIOSK_SECRET)",
    )


def _call_body(args: argparse.Namespace) -> str:
    """The POST body's text: the argument, --body-file, or stdin; empty means `{}`. ValueError if unusable."""
    if args.body is not None and args.body_file:
        raise ValueError("give the body once: as an argument or with --body-file")
    if args.body_file:
        try:
            text = Path(args.body_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{args.body_file}: cannot read the body: {exc.strerror}") from None
    elif args.body == "-" or (args.body is None and not sys.stdin.isatty()):
        text = sys.stdin.read()
    else:
        text = args.body or ""
    text = text.strip() or "{}"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    return text


@command(
    "central call",
    "send one signed request to a central service and print the answer",
    _call_arguments,
    late_positional="body",
)
def _call(args: argparse.Namespace, config: Config) -> int:
    import httpx

    from kiosk.sync.client import central_client

    tc = config.terminal
    kiosk_id = args.kiosk_id or tc.kiosk_id
    secret_file = args.secret_file or tc.secret_file
    try:
        secret = Path(secret_file).read_text().strip() if secret_file else os.environ.get("KIOSK_SECRET", "")
    except OSError as exc:
        return _fail(f"{secret_file}: cannot read the kiosk secret: {exc.strerror}")
    if not kiosk_id or not secret:
        return _fail("give --kiosk-id and --secret-file (or $KIOSK_SECRET)")
    if args.method == "GET" and (args.body is not None or args.body_file):
        return _fail("a GET has no body")
    try:
        body = _call_body(args) if args.method == "POST" else ""
    except ValueError as exc:
        return _fail(str(exc))
    url = args.url or tc.central_url
    try:
        with central_client(url, kiosk_id, secret) as client:
            if args.method == "GET":
                response = client.get(args.path)
            else:
                response = client.post(
                    args.path, content=body.encode(), headers={"Content-Type": "application/json"}
                )
    except httpx.HTTPError as exc:
        return _fail(f"{url}: {exc}", 1)
    try:
        print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    except ValueError:  # not JSON (e.g. a proxy's error page): show it as it came
        print(response.text)
    return 0 if response.is_success else 1


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-serve", action="store_true", help="exit after the walkthrough instead of keeping central up"
    )


@command(
    "central demo",
    "narrate a binding through the central API, step by step (embedded central, generated people)",
    _demo_arguments,
    reads_config=False,
)
def _central_demo(args: argparse.Namespace, config: Config) -> int:
    from kiosk.central.demo import run_demo

    return run_demo(serve_forever=not args.no_serve)


# --- devices ------------------------------------------------------------------------------------------


def _virtual_card_arguments(p: argparse.ArgumentParser) -> None:
    from devices.virtual_card import Fault

    p.add_argument("--host", default="127.0.0.1", help="where vpcd listens (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=35963, help='35963 = "Virtual PCD 00 00" (holder), 35964 = "... 00 01"'
    )
    p.add_argument("--gen", type=int, choices=(2, 3), help="card generation (default: the person's card)")
    p.add_argument("--t0", action="store_true", help="answer like a T=0 card (61xx / 6Cxx)")
    p.add_argument("--pin", default="123456", help="the card PIN (6 digits, default 123456)")
    p.add_argument(
        "--person",
        help="ID number of a seeded person, or 1-7 for the demo cards (default 1, the Lishui holder)",
    )
    p.add_argument(
        "--people", type=int, default=120, help="how many people were seeded (default 120, as the demo)"
    )
    p.add_argument("--seed", type=int, default=1, help="the seed's random seed (default 1)")
    p.add_argument("--locked", action="store_true", help="the PIN is blocked (no tries left)")
    p.add_argument("--expired", action="store_true", help="the card's validity ended yesterday")
    p.add_argument("--not-sscard", action="store_true", help="a card without the social security application")
    p.add_argument(
        "--fault",
        choices=[f.value for f in Fault],
        default="none",
        help="answer the card-number read with a broken answer (tests)",
    )


@command(
    "virtual-card",
    "a virtual social security card in vpcd's reader (tests, demos, staff training on a real pcscd)",
    _virtual_card_arguments,
    reads_config=False,
)
def _virtual_card(args: argparse.Namespace, config: Config) -> int:
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


def _run_kiosk(config: Config, *, demo: bool, pcsc: bool = False) -> int:
    """Start the citizen's screens (the only place the UI toolkit is imported)."""
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
            return _config_error(exc)
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
        from screens.app import make_app

        backend = Backend(client, store, worker, public_url=config.terminal.public_url)
        app = make_app(backend, reader, config.kiosk)
        try:
            app.run()
        finally:
            worker.stop()
            sync_thread.join(timeout=5)
            reader.close()
            client.close()
            store.close()
        return app.return_code or 0  # non-zero when an error ended the app: the supervisor restarts it

    from devices.reader import CardReader
    from kiosk.demo import build_demo
    from kiosk.staff import hash_pin
    from screens.app import make_app

    print("Starting the demo (embedded central service, generated people)...", file=sys.stderr)
    world = build_demo()
    world.start_sync()
    _log_to_file(world.workdir / "kiosk.log")
    kiosk_config = config.kiosk.model_copy(
        update={"reader": "pcsc" if pcsc else "simulated", "staff_pin_hash": hash_pin("000000")}
    )
    demo_reader: CardReader = _pcsc_reader(kiosk_config) if pcsc else world.reader
    app = make_app(world.backend, demo_reader, kiosk_config, demo_sms=world.latest_sms)
    try:
        app.run()
    finally:
        if pcsc:
            demo_reader.close()
        world.close()
    return app.return_code or 0
