"""Synthetic but valid people for the reference central service, plus its areas and commitment letters."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.central.models import Area, ConsentLetter, HouseholdMember, Person
from kiosk.domain.idnumber import make_id_number, parse_id_number
from kiosk.domain.policy import parse_policies
from kiosk.domain.relations import RELATIONS, Sex

T = TypeVar("T")

# Planning areas people are insured in: the six the service has policies for, and two it does not serve.
# Each city lists its ID-number prefixes, newest first: older residents carry the codes of their birth year
# (丽水地区 was 3325 before 2000, 聊城地区 3725 before 1998, 衢州 3326 before 1985).
AREA_PREFIXES = {
    "331100": ("3311", "3325"),  # 丽水市
    "330100": ("3301",),  # 杭州市
    "330800": ("3308", "3326"),  # 衢州市
    "440300": ("4403", "4421"),  # 深圳市 (宝安县 4421 before 1979)
    "371500": ("3715", "3725"),  # 聊城市
    "130100": ("1301",),  # 石家庄市
    "110100": ("1101",),  # 北京市 (not served here)
    "510100": ("5101",),  # 成都市 (not served here)
}
SERVED = ("331100", "330100", "330800", "440300", "371500", "130100")
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN_MALE = "伟明强军磊洋勇杰涛斌超刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志红卫东海峰"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂英秀兰红梅琳雪婷慧颖倩洁佳琪晶欣悦怡萍莉月琴云凤霞"


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    psn_no: str
    certno: str
    name: str
    sex: str
    birth_date: dt.date
    insutype: str
    insu_status: str
    insured_admdvs: str
    phone: str | None
    card_no: str | None
    card_issuing_admdvs: str | None
    card_generation: int | None
    account_balance_fen: int
    household: int  # which generated family this person belongs to
    relation_to_head: str  # GB/T 4761 code of this person relative to the household head; "00" = the head


@lru_cache(maxsize=64)
def _county_history(prefix: str) -> tuple[tuple[str, int, int], ...]:
    """(code, first year, last year) of a city's county codes, from python-stdnum's own area database."""
    from stdnum import numdb

    db = numdb.get("cn/loc")
    spans = []
    for n in range(1, 100):
        code = f"{prefix}{n:02d}"
        info = {k: v for _part, props in db.info(code) for k, v in props.items()}
        for county in info.get("county", "").split(","):
            if not county:
                continue
            if not county.startswith("["):
                spans.append((code, 0, 9999))
                continue
            start, end = county[1:].split("]")[0].split("-")
            spans.append((code, int(start or 0), int(end or 9999)))
    return tuple(spans)


def _county_codes(prefix: str, year: int) -> tuple[str, ...]:
    """County codes of a city that existed in `year` (stdnum checks an ID's area against its birth year)."""
    return tuple(sorted({code for code, start, end in _county_history(prefix) if start <= year <= end}))


class _Generator:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.rnd = random.Random(seed)
        self.today = today
        self.people: list[SyntheticPerson] = []
        self.used_certnos: set[str] = set()
        self.household = 0

    def name(self, sex: Sex, surname: str | None = None) -> str:
        if surname is None:
            surname = (
                self.rnd.choice(DOUBLE_SURNAMES) if self.rnd.random() < 0.03 else self.rnd.choice(SURNAMES)
            )
        pool = GIVEN_MALE if sex is Sex.MALE else GIVEN_FEMALE
        given = "".join(self.rnd.choice(pool) for _ in range(1 if self.rnd.random() < 0.3 else 2))
        return surname + given

    def birth_date(self, age: int) -> dt.date:
        born = self.today - dt.timedelta(days=age * 365 + self.rnd.randrange(0, 365))
        return max(born, dt.date(1901, 1, 1))

    def certno(self, area: str, born: dt.date, sex: Sex) -> str:
        codes: tuple[str, ...] = ()
        for prefix in (*AREA_PREFIXES.get(area, (area[:4],)), "1101"):
            codes = codes or _county_codes(prefix, born.year)
        for _ in range(200):
            seq = self.rnd.randrange(0, 500) * 2 + (1 if sex is Sex.MALE else 0)
            value = make_id_number(self.rnd.choice(codes), born, seq)
            if value not in self.used_certnos and parse_id_number(value):
                self.used_certnos.add(value)
                return value
        raise RuntimeError("could not find a free ID number")  # pragma: no cover - 500 sequences per day

    def add(
        self,
        *,
        relation_code: str,
        age: int,
        sex: Sex,
        area: str,
        surname: str | None = None,
        insutype: str | None = None,
        status: str | None = None,
        phone: bool | None = None,
        card_generation: int | None = None,
    ) -> SyntheticPerson:
        index = len(self.people)
        born = self.birth_date(age)
        if insutype is None:
            insutype = "310" if 18 <= age < 70 and self.rnd.random() < 0.75 else "390"
        if status is None:
            roll = self.rnd.random()
            status = "1" if roll < 0.92 else ("2" if roll < 0.97 else "4")
        if phone is None:
            phone = age >= 14 and self.rnd.random() < 0.93
        if card_generation is None:
            card_generation = 3 if self.rnd.random() < 0.4 else 2
        prefix = "ABCDEFGH" if card_generation == 2 else "JKLMNPQR"
        person = SyntheticPerson(
            psn_no=f"{area}{index + 1:010d}",
            certno=self.certno(area, born, sex),
            name=self.name(sex, surname),
            sex=sex.value,
            birth_date=born,
            insutype=insutype,
            insu_status=status,
            insured_admdvs=area,
            phone=f"1{self.rnd.choice('3578')}{self.rnd.randrange(10**9):09d}" if phone else None,
            card_no=f"{self.rnd.choice(prefix)}{index + 1:08d}",
            card_issuing_admdvs=area,
            card_generation=card_generation,
            account_balance_fen=self.rnd.randrange(0, 5_000_000) if insutype == "310" else 0,
            household=self.household,
            relation_to_head=relation_code,
        )
        self.people.append(person)
        return person

    def household_of(self, area: str, head_age: int, head_sex: Sex, **head: Any) -> SyntheticPerson:
        self.household += 1
        return self.add(relation_code="00", age=head_age, sex=head_sex, area=area, insutype="310", **head)

    def relative(
        self, head: SyntheticPerson, code: str, age: int, area: str | None = None, **kw: Any
    ) -> None:
        rel = RELATIONS[code]
        sex = rel.sex or (Sex.FEMALE if head.sex == Sex.MALE.value else Sex.MALE)
        surname = head.name[:2] if head.name[:2] in DOUBLE_SURNAMES else head.name[0]
        same_name = (
            code in ("20", "30", "51", "61", "62", "41", "42", "71", "73", "75", "77") and head.sex == "1"
        )
        self.add(
            relation_code=code,
            age=max(0, age),
            sex=sex,
            area=area or head.insured_admdvs,
            surname=surname if same_name else None,
            **kw,
        )

    def scenarios(self) -> None:
        """Fixed families first, so demos and tests always find every edge case among the first people."""
        head = self.household_of("331100", 45, Sex.MALE, status="1", phone=True, card_generation=2)
        for code, age in (("10", 43), ("20", 10), ("30", 19), ("51", 76), ("52", 74)):
            self.relative(head, code, age, status="1", phone=age >= 14)
        head = self.household_of("330100", 52, Sex.FEMALE, status="1", phone=True, card_generation=3)
        for code, age in (("10", 55), ("71", 58), ("62", 99), ("44", 3), ("20", 27)):
            self.relative(head, code, age, status="1", phone=age >= 14)
        head = self.household_of("330800", 38, Sex.MALE, status="1", phone=True, card_generation=2)
        self.relative(head, "52", 64, area="330100", status="1", phone=True)  # insured in another area
        self.relative(head, "10", 36, area="440300", status="1", phone=True)  # ... in another province
        self.household_of("331100", 50, Sex.FEMALE, status="2", phone=True)  # suspended holder
        self.household_of("330100", 61, Sex.MALE, status="4", phone=True)  # terminated holder
        self.household += 1  # a resident-insured head: has no personal account to share
        self.add(
            relation_code="00", age=40, sex=Sex.FEMALE, area="331100", insutype="390", status="1", phone=True
        )
        head = self.household_of("440300", 33, Sex.FEMALE, status="1", phone=True, card_generation=3)
        self.relative(head, "51", 62, area="371500", status="1", phone=True)
        self.relative(head, "52", 60, area="371500", status="1", phone=False)  # no phone registered
        head = self.household_of("130100", 29, Sex.MALE, status="1", phone=True)
        self.relative(head, "77", 24, status="1", phone=True)
        self.household_of("110100", 47, Sex.MALE, status="1", phone=True)  # insured where no policy is served
        head = self.household_of(
            "130100", 17, Sex.FEMALE, status="1", phone=True
        )  # under 18: too young there
        self.relative(head, "52", 44, status="1", phone=True)

    def random_household(self) -> None:
        area = self.rnd.choice(SERVED) if self.rnd.random() < 0.9 else self.rnd.choice(tuple(AREA_PREFIXES))
        head_sex = self.rnd.choice((Sex.MALE, Sex.FEMALE))
        head_age = self.rnd.randrange(22, 66)
        head = self.household_of(area, head_age, head_sex)

        def elsewhere() -> str:
            return area if self.rnd.random() < 0.85 else self.rnd.choice(tuple(AREA_PREFIXES))

        if self.rnd.random() < 0.8 and head_age >= 22:
            self.relative(head, "10", head_age + self.rnd.randrange(-5, 6), elsewhere())
        for _ in range(self.rnd.randrange(0, 3)):
            child_age = head_age - self.rnd.randrange(22, 36)
            if child_age >= 0:
                self.relative(head, self.rnd.choice(("20", "30")), child_age, elsewhere())
        for code in ("51", "52"):
            parent_age = head_age + self.rnd.randrange(22, 36)
            if parent_age <= 104 and self.rnd.random() < 0.6:
                self.relative(head, code, parent_age, elsewhere())
        if self.rnd.random() < 0.25:
            code = self.rnd.choice(("71", "73", "75", "77"))
            self.relative(
                head, code, head_age + (self.rnd.randrange(1, 8) * (1 if code in ("71", "75") else -1))
            )


def generate_people(count: int, seed: int, today: dt.date | None = None) -> list[SyntheticPerson]:
    """`count` people (at least the fixed scenarios), the same for the same seed and day."""
    gen = _Generator(seed, today or dt.date.today())
    gen.scenarios()
    while len(gen.people) < count:
        gen.random_household()
    return gen.people[: max(count, 0)] if count >= len(gen.people) else gen.people[:count]


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("kiosk.central").joinpath("data", name).read_text("utf-8"))


def letter_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def load_reference_data(db: Session, now: dt.datetime) -> None:
    """Areas and letters from the package data. A changed policy bumps the area's version; a changed
    published letter is refused (a new text needs a new version)."""
    policies = parse_policies(_data("areas.toml"), "areas.toml")
    for policy in policies.values():
        raw = policy.to_dict()
        area = db.get(Area, policy.admdvs)
        if area is None:
            db.add(
                Area(
                    admdvs=policy.admdvs,
                    name_zh=policy.name_zh,
                    name_en=policy.name_en,
                    policy=raw,
                    version=1,
                    updated_at=now,
                )
            )
        elif area.policy != raw:
            area.policy, area.version, area.updated_at = raw, area.version + 1, now
    for item in _data("letters.toml")["letter"]:
        key = (item["id"], item["version"], item["lang"])
        existing = db.get(ConsentLetter, key)
        digest = letter_sha256(item["body"])
        if existing is None:
            db.add(
                ConsentLetter(
                    letter_id=item["id"],
                    version=item["version"],
                    lang=item["lang"],
                    title=item["title"],
                    body=item["body"],
                    sha256=digest,
                )
            )
        elif existing.sha256 != digest:
            raise ValueError(f"published letter {key} changed; publish a new version instead")


def household_no(p: SyntheticPerson) -> str:
    """The register's number of a generated household."""
    return f"H{p.household:07d}"


def seed_people(db: Session, people: list[SyntheticPerson]) -> int:
    """Insert the people not yet in the registry, each with their household-register line; returns how
    many were added."""
    existing = set(db.scalars(select(Person.psn_no)))
    added = 0
    for p in people:
        if p.psn_no in existing:
            continue
        row = asdict(p)
        row.pop("household")
        row.pop("relation_to_head")
        db.add(Person(**row))
        added += 1
    db.flush()  # the register's lines point at the people
    for p in people:
        if p.psn_no not in existing:
            db.add(
                HouseholdMember(
                    psn_no=p.psn_no, household_no=household_no(p), relation_to_head=p.relation_to_head
                )
            )
    return added


def seed_database(
    url: str, people: int, seed: int, *, also: Callable[[Session], T] | None = None
) -> tuple[list[SyntheticPerson], int, T | None]:
    """Migrate the database at `url`, load the areas and letters, and seed `people` generated with `seed`
    (`kiosk central seed`, the test fixtures), in one transaction with `also(db)` (a kiosk to register, say).
    Returns the generated people, how many were new, and what `also` returned."""
    from kiosk.central.db import make_engine, make_sessionmaker, upgrade

    upgrade(url)
    generated = generate_people(people, seed)
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as db:
            load_reference_data(db, dt.datetime.now(dt.UTC))
            added = seed_people(db, generated)
            extra = also(db) if also is not None else None
    finally:
        engine.dispose()
    return generated, added, extra
