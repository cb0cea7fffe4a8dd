"""`kiosk --demo` until the screens exist: an embedded central on loopback and a narrated API walkthrough."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import update
from sqlalchemy.orm import Session

from kiosk import api
from kiosk.central import bindings, money, registry
from kiosk.central.app import CentralSettings, create_app
from kiosk.central.auth import register_kiosk
from kiosk.central.db import make_engine, make_sessionmaker, upgrade
from kiosk.central.models import ConsentLetter, Otp, SmsMessage
from kiosk.central.otp import OtpRules
from kiosk.central.seed import SyntheticPerson, generate_people, load_reference_data, seed_people
from kiosk.domain.settlement import format_fen
from kiosk.sync.client import central_client

DEMO_KIOSK = "demo-kiosk"
DEMO_INSTITUTION = "demo-medical-institutions"
"""The client id the demo's past settlements are recorded under (the hospitals' and pharmacies' side)."""

# Card 1's wife paid with her husband's account in the month before the demo: (days after the binding,
# institution, yuan in fen). Each is below Lishui's 1,500 yuan per settlement and 3,000 yuan per day.
DEMO_BILLS = (
    (6, api.InstitutionKind.PHARMACY, 12_850),
    (19, api.InstitutionKind.CLINIC, 26_000),
    (33, api.InstitutionKind.PHARMACY, 4_680),
)
DEMO_BOUND_DAYS_AGO = 40
DEMO_HOSPITAL_DAYS_AGO = 75


def add_demo_history(db: Session, people: list[SyntheticPerson], now: dt.datetime) -> None:
    """The demo's past, so that card 1's usage records have rows on both sides: his wife's hospital stay
    75 days ago used up her own account; 40 days ago he bound her at this terminal (she confirmed with her
    SMS code); since then a pharmacy and a clinic were paid from his account. The binding and the
    settlements go through central's own rules and split, at the times they happened.

    The wife, because the demo's walks bind the father, the mother and the children of household 1."""
    family = {p.relation_to_head: p for p in people if p.household == 1}
    holder, wife = family["00"], family["10"]
    bound_at = now - dt.timedelta(days=DEMO_BOUND_DAYS_AGO)
    policy = registry.area_policy(db, holder.insured_admdvs)
    letter_id, version = policy.consent_letter.id, policy.consent_letter.version
    letter = db.get(ConsentLetter, (letter_id, version, "zh-CN"))
    assert letter is not None  # noqa: S101 - load_reference_data published it

    def pay(kind: api.InstitutionKind, fen: int, occurred_at: dt.datetime) -> None:
        """A bill of hers, settled by central's own rules (her account first, then his, then cash)."""
        money.create_settlement(
            db,
            now,
            DEMO_INSTITUTION,
            api.SettlementIn(
                settlement_id=uuid.uuid4(),
                relative_certno=wife.certno,
                amount_fen=fen,
                institution_kind=kind,
                occurred_at=occurred_at,
            ),
        )

    # Her own account goes first in every settlement: the hospital stay (own account, then cash) emptied it.
    stay_fen = (wife.account_balance_fen // 100_000 + 2) * 100_000
    pay(api.InstitutionKind.HOSPITAL, stay_fen, now - dt.timedelta(days=DEMO_HOSPITAL_DAYS_AGO))
    rules = OtpRules()
    otp_id = str(uuid.uuid4())
    db.add(  # the code she read out back then; only the fact that it was verified matters now
        Otp(
            otp_id=otp_id,
            holder_psn_no=holder.psn_no,
            relative_psn_no=wife.psn_no,
            code_hash="0" * 64,
            created_at=bound_at,
            expires_at=bound_at + dt.timedelta(seconds=rules.ttl_s),
            attempts=1,
            verified_at=bound_at,
            kiosk_id=DEMO_KIOSK,
        )
    )
    request = api.BindingCreateIn(
        request_id=uuid.uuid4(),
        holder_psn_no=holder.psn_no,
        relative_certno=wife.certno,
        relation_code="10",
        admdvs=policy.admdvs,
        letter_id=letter_id,
        letter_version=version,
        letter_sha256=letter.sha256,
        otp_id=uuid.UUID(otp_id),
    )
    bindings.create(db, bound_at, DEMO_KIOSK, request, rules.ttl_s)
    for days, kind, fen in DEMO_BILLS:
        pay(kind, fen, bound_at + dt.timedelta(days=days, hours=2))
    # The notices of that binding went out back then: the demo's gateway must not send them today.
    db.execute(update(SmsMessage).where(SmsMessage.sent_at.is_(None)).values(sent_at=bound_at))


class EmbeddedCentral:
    """The reference central service in a thread of this process, on 127.0.0.1, with seeded SQLite."""

    def __init__(self, workdir: Path, people: int = 200, port: int = 0) -> None:
        self.workdir = workdir
        self.database_url = f"sqlite:///{workdir / 'central.db'}"
        self.sms_file = workdir / "sms.jsonl"
        upgrade(self.database_url)
        self.people = generate_people(people, seed=1)
        engine = make_engine(self.database_url, pool_size=1)
        try:
            with make_sessionmaker(engine).begin() as db:
                load_reference_data(db, dt.datetime.now(dt.UTC))
                seed_people(db, self.people)
                self.kiosk_id = DEMO_KIOSK
                self.secret = register_kiosk(db, self.kiosk_id, dt.datetime.now(dt.UTC))
                add_demo_history(db, self.people, dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()
        self.port = port or _free_port()
        app = create_app(
            CentralSettings(
                database_url=self.database_url,
                sms_gateway="file",
                sms_file=self.sms_file,
                run_migrations=False,
            )
        )
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, name="embedded-central", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedCentral:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the embedded central service did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def sms(self) -> list[dict[str, str]]:
        if not self.sms_file.exists():
            return []
        return [json.loads(line) for line in self.sms_file.read_text(encoding="utf-8").splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_sms(central: EmbeddedCentral, phone: str, pattern: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for row in reversed(central.sms()):
            if row["phone"] == phone and re.search(pattern, row["body"]):
                return row["body"]
        time.sleep(0.05)
    raise RuntimeError("the demo SMS did not arrive")


def walkthrough(central: EmbeddedCentral, client: httpx.Client, say: Any = print) -> None:
    """Bind a father with an SMS code, settle a bill, look at usage, and unbind: all through the API."""
    family = {p.relation_to_head: p for p in central.people if p.household == 1}
    holder, father = family["00"], family["51"]

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = client.request(method, path, json=body)
        say(f"  {method} {path} → {r.status_code}")
        r.raise_for_status()
        return dict(r.json()) if isinstance(r.json(), dict) else {"items": r.json()}

    say("1. The card holder inserts a 2nd-generation card (card number + issuing area):")
    me = call(
        "POST",
        "/v1/holders/identify",
        {"card_no": holder.card_no, "issuing_admdvs": holder.card_issuing_admdvs},
    )
    say(
        f"   {me['name']} (in full for the holder only), ID {me['certno_masked']}, eligible: {me['eligible']}"
    )
    letter = call("GET", "/v1/letters/zj-family-aid/2?lang=zh-CN")
    say(f"2. Commitment letter 《{letter['title']}》 v{letter['version']}, sha256 {letter['sha256'][:12]}…")
    check = call(
        "POST",
        "/v1/bindings/check",
        {
            "holder_psn_no": holder.psn_no,
            "relative_certno": father.certno,
            "relation_code": "51",
            "admdvs": "331100",
        },
    )
    say(
        f"3. Relative {check['relative']['name_masked']} ({check['relative']['certno_masked']}), "
        f"needs: {', '.join(check['required_verification']) or 'nothing'}; "
        f"cap per settlement {format_fen(check['per_txn_cap_fen'])} yuan"
    )
    otp = call("POST", "/v1/otp/send", {"holder_psn_no": holder.psn_no, "relative_psn_no": father.psn_no})
    assert father.phone is not None  # noqa: S101 - the fixed demo family has phones
    text = _wait_sms(central, father.phone, r"验证码")
    say(f"4. SMS to {otp['phone_masked']}: {text}")
    code = re.search(r"验证码 (\d{6})", text)
    assert code is not None  # noqa: S101
    call("POST", "/v1/otp/verify", {"otp_id": otp["otp_id"], "code": code.group(1)})
    body = {
        "request_id": str(uuid.uuid4()),
        "holder_psn_no": holder.psn_no,
        "relative_certno": father.certno,
        "relation_code": "51",
        "admdvs": "331100",
        "letter_id": letter["letter_id"],
        "letter_version": letter["version"],
        "letter_sha256": letter["sha256"],
        "otp_id": otp["otp_id"],
    }
    bound = call("POST", "/v1/bindings", body)
    say(
        f"5. Bound: {bound['holder']['name_masked']} → {bound['relative']['name_masked']}, "
        f"status {bound['status']}, "
        f"valid until {bound['valid_until']}"
    )
    again = call("POST", "/v1/bindings", body)
    say(f"   The same request again gives the same binding: {again['binding_id'] == bound['binding_id']}")
    mine = call("GET", f"/v1/persons/{holder.psn_no}/bindings")
    theirs = call("GET", f"/v1/persons/{father.psn_no}/bindings")
    say(f"6. Holder shares with {len(mine['as_holder'])}; father receives from {len(theirs['as_relative'])}")
    paid = call(
        "POST",
        "/v1/settlements",
        {
            "settlement_id": str(uuid.uuid4()),
            "relative_certno": father.certno,
            "amount_fen": 300_000,
            "institution_kind": "pharmacy",
        },
    )
    shares = ", ".join(f"{s['holder_name_masked']} {format_fen(s['amount_fen'])}" for s in paid["mutual_aid"])
    say(
        f"7. Father pays 3,000.00 yuan at a pharmacy: own account {format_fen(paid['own_account_fen'])}, "
        f"family account {shares or '0.00'}, cash {format_fen(paid['cash_fen'])}"
    )
    usage = call("GET", f"/v1/persons/{holder.psn_no}/usage")
    say(
        f"8. The holder's usage records: {len(usage['records'])}, total {format_fen(usage['total_fen'])} yuan"
    )
    ended = call(
        "POST",
        f"/v1/bindings/{bound['binding_id']}/revoke",
        {"request_id": str(uuid.uuid4()), "by_psn_no": father.psn_no},
    )
    say(f"9. The father ends it himself: status {ended['status']}, ended by {ended['ended_by']}")
    say(f"   SMS sent by central so far: {len(central.sms())}")


def run_demo(serve_forever: bool = True) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="family-aid-demo-"))
    print(f"DEMO: embedded central service with generated people, data in {workdir}")
    central = EmbeddedCentral(workdir).start()
    kiosk_id = central.kiosk_id
    secret_file = workdir / "kiosk.secret"
    secret_file.write_text(central.secret)
    secret_file.chmod(0o600)
    try:
        with central_client(central.url, kiosk_id, central.secret) as client:
            walkthrough(central, client)
        print(f"\nCentral is at {central.url} (OpenAPI: {central.url}/docs). Try a signed call:")
        print(
            f"  kiosk central call GET /v1/areas --url {central.url} --kiosk-id {kiosk_id} "
            f"--secret-file {secret_file}"
        )
        print(f"SMS the demo central 'sends' are in {central.sms_file}.")
        if serve_forever:
            print("Press Ctrl+C to stop.")
            while central.thread.is_alive():
                central.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        central.stop()
    return 0
