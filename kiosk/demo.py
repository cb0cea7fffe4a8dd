"""`kiosk --demo`: the embedded central on loopback, a terminal store in a temp dir, the sync worker, and
a simulated reader with a deck of demo cards. Tests build the same world."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from devices.reader import CardData
from devices.simulated import SimulatedCard, SimulatedReader
from devices.virtual_card import CardPerson
from kiosk.central.demo import EmbeddedCentral
from kiosk.central.seed import SyntheticPerson, generate_people
from kiosk.config import Config, StoreConfig, SyncConfig, TerminalConfig
from kiosk.domain.masking import mask_name, mask_phone
from kiosk.services import Backend
from kiosk.store.repository import Store
from kiosk.sync.client import terminal_client
from kiosk.sync.worker import SyncWorker

DEMO_PIN = "123456"


def _card(p: SyntheticPerson, label: str, *, tries_left: int = 3) -> SimulatedCard:
    assert p.card_no is not None and p.card_issuing_admdvs is not None  # noqa: S101 - seeded people have cards
    generation = p.card_generation or 2
    data = CardData(
        card_no=p.card_no,
        issuing_admdvs=p.card_issuing_admdvs,
        generation=generation,
        certno=p.certno if generation == 2 else None,
        name=p.name if generation == 2 else None,
    )
    return SimulatedCard(data=data, pin=DEMO_PIN, tries_left=tries_left, label=f"{label} {mask_name(p.name)}")


def demo_deck(people: list[SyntheticPerson]) -> list[SimulatedCard]:
    """The cards on the DEMO panel, from the fixed scenario households of the seed."""

    return [
        _card(_member(people, household, relation), label, tries_left=0 if locked else 3)
        for household, relation, label, locked in DEMO_CARDS
    ]


# (household, relation to its head, label, PIN locked): the DEMO panel's cards 1-7, from the seed's fixed
# scenario households; `kiosk virtual-card --person N` makes the same cards for a real pcscd.
DEMO_CARDS = (
    (1, "00", "丽水 Lishui", False),
    (2, "00", "杭州 Hangzhou", False),
    (3, "00", "衢州 Quzhou", False),
    (4, "00", "暂停参保 suspended", False),
    (6, "00", "居民医保 resident", False),
    (1, "51", "父亲 father", False),
    (7, "00", "深圳 Shenzhen", True),
)


def _member(people: list[SyntheticPerson], household: int, relation: str) -> SyntheticPerson:
    return next(p for p in people if p.household == household and p.relation_to_head == relation)


def card_person(key: str | None, *, people: int = 120, seed: int = 1) -> tuple[CardPerson, int, bool]:
    """A virtual card's person from the seed data (the people the demo and `kiosk central seed` make):
    `key` is an ID number, or 1-7 for the DEMO panel's cards; None = card 1.
    Returns (person, generation, PIN locked)."""
    generated = generate_people(people, seed)
    today = dt.date.today()
    locked = False
    if key is None or (key.isdigit() and len(key) <= 2):
        index = int(key or 1) - 1
        if not 0 <= index < len(DEMO_CARDS):
            raise LookupError(f"the demo cards are numbered 1-{len(DEMO_CARDS)}")
        household, relation, _label, locked = DEMO_CARDS[index]
        chosen: SyntheticPerson | None = _member(generated, household, relation)
    else:
        chosen = next((p for p in generated if p.certno == key.strip().upper()), None)
    if chosen is None or chosen.card_no is None or chosen.card_issuing_admdvs is None:
        raise LookupError(f"no person with a card and that ID number among the {people} seeded people")
    person = CardPerson(
        card_no=chosen.card_no,
        issuing_admdvs=chosen.card_issuing_admdvs,
        certno=chosen.certno,
        name=chosen.name,
        sex=chosen.sex,
        birth_date=chosen.birth_date,
        issued=today - dt.timedelta(days=5 * 365),  # valid for ten years, half of them left
        expires=today + dt.timedelta(days=5 * 365),
    )
    return person, chosen.card_generation or 2, locked


@dataclass
class DemoWorld:
    workdir: Path
    central: EmbeddedCentral
    store: Store
    backend: Backend
    reader: SimulatedReader
    config: Config
    _threads: list[threading.Thread] = field(default_factory=list)
    owns_workdir: bool = True

    @property
    def people(self) -> list[SyntheticPerson]:
        return self.central.people

    def latest_sms(self) -> str:
        """The last SMS the embedded central 'sent', for the DEMO panel (demo data only)."""
        messages = self.central.sms()
        if not messages:
            return "SMS: —"
        last = messages[-1]
        # the code first: at 80 columns the panel has room for little more
        code = re.search(r"\d{6}", last["body"])
        shown = f"SMS {code.group()} → " if code else "SMS → "
        return f"{shown}{mask_phone(last['phone'])}: {last['body']}"

    def start_sync(self) -> None:
        assert self.backend.worker is not None  # noqa: S101
        t = threading.Thread(target=self.backend.worker.run_forever, name="sync-worker", daemon=True)
        t.start()
        self._threads.append(t)

    def close(self) -> None:
        if self.backend.worker is not None:
            self.backend.worker.stop()
        for t in self._threads:
            t.join(timeout=5)
        self.backend.client.close()
        self.store.close()
        self.central.stop()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def build_demo(workdir: Path | None = None, people: int = 120) -> DemoWorld:
    owns = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="family-aid-demo-"))
    central = EmbeddedCentral(workdir, people=people).start()
    secret_file = workdir / "kiosk.secret"
    secret_file.write_text(central.secret)
    secret_file.chmod(0o600)
    config = Config(
        terminal=TerminalConfig(
            kiosk_id=central.kiosk_id,
            central_url=central.url,
            secret_file=str(secret_file),
            public_url=central.url,  # the embedded central serves the receipt pages too
        ),
        store=StoreConfig(path=str(workdir / "terminal.db")),
        sync=SyncConfig(interval_s=2.0, backoff_base_s=1.0, backoff_max_s=30.0, timeout_s=5.0),
        source="<demo>",
    )
    store = Store.open(config.store)
    client = terminal_client(config)
    worker = SyncWorker(store, client, config.sync)
    worker.run_once()  # policy and letters before the first citizen
    reader = SimulatedReader(deck=demo_deck(central.people))
    return DemoWorld(
        workdir,
        central,
        store,
        Backend(client, store, worker, public_url=config.terminal.public_url),
        reader,
        config,
        owns_workdir=owns,
    )
