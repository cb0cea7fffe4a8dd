"""`kiosk --demo`: the embedded central on loopback, a terminal store in a temp dir, the sync worker, and
a simulated reader with a deck of demo cards. Tests build the same world."""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from devices.reader import CardData
from devices.simulated import SimulatedCard, SimulatedReader
from kiosk.central.demo import EmbeddedCentral
from kiosk.central.seed import SyntheticPerson
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

    def head(n: int) -> SyntheticPerson:
        return next(p for p in people if p.household == n and p.relation_to_head == "00")

    def member(n: int, code: str) -> SyntheticPerson:
        return next(p for p in people if p.household == n and p.relation_to_head == code)

    return [
        _card(head(1), "丽水 Lishui"),
        _card(head(2), "杭州 Hangzhou"),
        _card(head(3), "衢州 Quzhou"),
        _card(head(4), "暂停参保 suspended"),
        _card(head(6), "居民医保 resident"),
        _card(member(1, "51"), "父亲 father"),
        _card(head(7), "深圳 Shenzhen", tries_left=0),
    ]


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
        return f"SMS → {mask_phone(last['phone'])}: {last['body']}"

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
            kiosk_id=central.kiosk_id, central_url=central.url, secret_file=str(secret_file)
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
        workdir, central, store, Backend(client, store, worker), reader, config, owns_workdir=owns
    )
