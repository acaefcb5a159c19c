"""Synthetic organisations for benchmarks, as registry CSV (the columns of ``registry.csv_format``).

SYNTHETIC BENCHMARK DATA: every organisation is invented. English names start with "Bench ", Chinese names
with "基准", ids with "bench-", and the ``source`` column says so; none of it describes a real body.

The identifiers are nevertheless *valid*, because the import validates them with their real check algorithms:

* USCC (GB 32100-2015): registration authority + category matching the kind, a real administrative division
  code (mostly Chongqing districts), a nine-character organisation code whose last character is the GB 11714
  check character, and the GB 32100 mod-31 check character from ``uscc_check_character``;
* UEN (Singapore): business (ROB, 8 digits + ``calc_business_check_digit``), local company (ROC, year + 5
  digits + check letter) and "other entity" (T/S + year + entity type + 4 digits + check letter) formats;
* LEI (ISO 17442): 4-character LOU prefix, "00", 12 entity characters, ISO 7064 mod 97-10 check digits;
* BIC (ISO 9362): not unique (branches of one bank share it), so it is drawn from a small pool.

Every id, USCC, UEN and LEI is unique: each is derived injectively from the row number. Output is
deterministic for a given ``seed``.

    python -m benchmarks.gen_orgs 100000 -o /tmp/orgs.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from stdnum.sg.uen import calc_business_check_digit, calc_local_company_check_digit, calc_other_check_digit

from fintech_zone.registry.csv_format import COLUMNS
from fintech_zone.registry.identifiers import USCC_ALPHABET, uscc_check_character

SOURCE = "synthetic benchmark data (benchmarks/gen_orgs.py); not a real organisation"
MAX_ROWS = 2_000_000  # the identifier encodings below stay injective up to this many rows

# --- distributions (weights, not percentages) -------------------------------------------------------------

JURISDICTION_WEIGHTS = {
    "CN": 55,
    "SG": 30,
    "MY": 3,
    "TH": 3,
    "VN": 2,
    "ID": 2,
    "PH": 2,
    "KH": 1,
    "LA": 1,
    "MM": 0.5,
    "BN": 0.5,
}
KIND_WEIGHTS = {
    "enterprise": 80,
    "financial_institution": 12,
    "service_body": 4,
    "association": 2,
    "government_agency": 1.5,
    "regulator": 0.5,
}
SECTOR_WEIGHTS = {
    "payments": 18,
    "digital_currency": 4,
    "blockchain": 8,
    "lending": 12,
    "wealth": 10,
    "insurtech": 7,
    "regtech": 5,
    "data_ai": 14,
    "infrastructure": 8,
    "other": 14,
}
STATUS_WEIGHTS = {"prospect": 35, "negotiating": 20, "agreement_signed": 12, "settled": 28, "exited": 5}

# --- names ------------------------------------------------------------------------------------------------

# (pinyin, hanzi) syllables: two of them make a trade-name stem such as "Lianyu" / "联渝".
SYLLABLES = (
    ("Lian", "联"),
    ("Yu", "渝"),
    ("Xin", "新"),
    ("Hua", "华"),
    ("Tai", "泰"),
    ("Feng", "丰"),
    ("Jin", "金"),
    ("Rong", "融"),
    ("Shan", "山"),
    ("Cheng", "城"),
    ("Hai", "海"),
    ("Da", "达"),
    ("Tong", "通"),
    ("Xing", "兴"),
    ("An", "安"),
    ("Heng", "恒"),
    ("Kai", "凯"),
    ("Ming", "明"),
    ("Rui", "瑞"),
    ("Sheng", "盛"),
    ("Tian", "天"),
    ("Wei", "维"),
    ("Yuan", "源"),
    ("Zhi", "智"),
    ("Bo", "博"),
    ("Chuang", "创"),
    ("De", "德"),
    ("Fu", "富"),
    ("Guang", "光"),
    ("Hong", "宏"),
    ("Jia", "嘉"),
    ("Kang", "康"),
    ("Long", "隆"),
    ("Mei", "美"),
    ("Ning", "宁"),
    ("Qi", "启"),
    ("Shun", "顺"),
    ("Wan", "万"),
    ("Xiang", "祥"),
    ("Yi", "易"),
)
# English-style trade names for Singapore and the other ASEAN members, with a Chinese rendering.
SG_STEMS = (
    ("Merlion", "鱼尾狮"),
    ("Marina", "滨海"),
    ("Lion City", "狮城"),
    ("Orchid", "胡姬"),
    ("Straits", "海峡"),
    ("Temasek Bay", "淡马湾"),
    ("Raffles Quay", "莱佛士码头"),
    ("Harbourfront", "港湾"),
    ("Sentosa", "圣淘沙"),
    ("Bukit", "武吉"),
    ("Jurong", "裕廊"),
    ("Tanjong", "丹戎"),
    ("Kallang", "加冷"),
    ("Changi", "樟宜"),
    ("Equator", "赤道"),
    ("Monsoon", "季风"),
    ("Lotus", "莲花"),
    ("Mekong", "湄公"),
    ("Borneo", "婆罗洲"),
    ("Andaman", "安达曼"),
    ("Java", "爪哇"),
    ("Irrawaddy", "伊洛瓦底"),
    ("Sunda", "巽他"),
    ("Malacca", "马六甲"),
)
CN_CITIES = (
    ("Chongqing", "重庆"),
    ("Chongqing", "重庆"),
    ("Chongqing", "重庆"),
    ("Chengdu", "成都"),
    ("Shanghai", "上海"),
    ("Beijing", "北京"),
    ("Shenzhen", "深圳"),
)
SECTOR_WORDS = {
    "payments": (("Pay", "支付"), ("Payments", "支付"), ("Remit", "汇付")),
    "digital_currency": (("Digital Currency", "数字货币"), ("e-CNY Services", "数字人民币服务")),
    "blockchain": (("Chain", "链"), ("Blockchain", "区块链"), ("Ledger", "账本")),
    "lending": (("Credit", "信贷"), ("Microfinance", "小额贷款"), ("Lending", "借贷")),
    "wealth": (("Wealth", "财富"), ("Asset Management", "资产管理"), ("Capital", "资本")),
    "insurtech": (("Insurtech", "保险科技"), ("Assurance", "保险")),
    "regtech": (("RegTech", "监管科技"), ("Compliance", "合规")),
    "data_ai": (("Data", "数据"), ("AI", "智能"), ("Analytics", "数据分析")),
    "infrastructure": (("Cloud", "云"), ("Clearing", "清算"), ("Infrastructure", "基础设施")),
    "other": (("Technology", "科技"), ("Digital", "数字"), ("Innovation", "创新")),
}
CN_SUFFIX = {
    "enterprise": (
        ("Technology Co., Ltd.", "科技有限公司"),
        ("Co., Ltd.", "有限公司"),
        ("Network Technology Co., Ltd.", "网络科技股份有限公司"),
    ),
    "financial_institution": (
        ("Bank Co., Ltd.", "银行股份有限公司"),
        ("Consumer Finance Co., Ltd.", "消费金融有限公司"),
        ("Securities Co., Ltd.", "证券股份有限公司"),
    ),
    "service_body": (("Service Centre", "服务中心"), ("Research Institute", "研究院")),
    "association": (("Industry Association", "行业协会"), ("Alliance", "联盟")),
    "government_agency": (("Development Office", "发展办公室"), ("Bureau of Commerce", "商务局")),
    "regulator": (("Financial Supervision Office", "金融监管办公室"),),
}
SG_SUFFIX = {
    "enterprise": (("Pte. Ltd.", "私人有限公司"), ("Holdings Pte. Ltd.", "控股私人有限公司"), ("LLP", "有限责任合伙")),
    "financial_institution": (("Bank Ltd.", "银行有限公司"), ("Capital Markets Pte. Ltd.", "资本市场私人有限公司")),
    "service_body": (("Centre", "中心"), ("Institute", "研究所")),
    "association": (("Association", "协会"), ("Society", "学会")),
    "government_agency": (("Agency", "机构"), ("Board", "局")),
    "regulator": (("Authority", "管理局"),),
}

# --- identifiers -------------------------------------------------------------------------------------------

# Administrative division codes (GB/T 2260): Chongqing districts first, then other cities.
ADMIN_DIVISIONS = (
    "500000",
    "500103",
    "500105",
    "500106",
    "500107",
    "500108",
    "500112",
    "500113",
    "500101",
    "510100",
    "310000",
    "110000",
    "440300",
)
# GB 32100 registration authority + organisation category, per kind.
USCC_PREFIX = {
    "enterprise": "91",
    "financial_institution": "91",
    "service_body": "12",
    "association": "51",
    "government_agency": "11",
    "regulator": "11",
}
GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LEI_LOUS = ("5493", "3003", "9845", "2138", "8945")  # LEI issuer prefixes (the benchmark's LEIs are invented)
UEN_OTHER_TYPES = ("LL", "SS", "CC", "FC", "MB", "TU")


def _digits(n: int, alphabet: str, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, len(alphabet))
        out.append(alphabet[r])
    if n:
        raise ValueError("number does not fit")
    return "".join(reversed(out))


def gb11714_check(code8: str) -> str:
    """Check character of a GB 11714 organisation code (positions 9-17 of a USCC carry one)."""
    total = sum(BASE36.index(c) * w for c, w in zip(code8, GB11714_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(serial: int, kind: str, rng: random.Random) -> str:
    # Eight organisation-code characters from the USCC alphabet without X (so the GB 11714 check stays apart),
    # "MA" first as in post-2015 codes; 30**6 > MAX_ROWS keeps it injective.
    body = "MA" + _digits(serial, USCC_ALPHABET.replace("X", ""), 6)
    first17 = USCC_PREFIX[kind] + rng.choice(ADMIN_DIVISIONS) + body + gb11714_check(body)
    return first17 + uscc_check_character(first17)


def lei_check_digits(first18: str) -> str:
    """ISO 7064 mod 97-10 over the 18 characters, letters as 10-35."""
    number = int("".join(str(BASE36.index(c)) for c in first18) + "00")
    return f"{98 - number % 97:02d}"


def make_lei(serial: int) -> str:
    lou = LEI_LOUS[serial % len(LEI_LOUS)]
    first18 = lou + "00" + "BENCH" + _digits(serial, BASE36, 7)
    return first18 + lei_check_digits(first18)


def make_uen(serial: int, kind: str) -> str:
    """Unique per serial: the three formats partition the serials (mod 10) and each encodes the rest."""
    slot = serial % 10
    if kind in ("association", "government_agency", "regulator") or slot == 0:
        # Other entities: T + two-digit year + entity type + 4 digits; (year, type, digits) <- serial.
        year, rest2 = divmod(serial, len(UEN_OTHER_TYPES) * 10_000)
        etype, num = divmod(rest2, 10_000)
        base = f"T{year % 27:02d}{UEN_OTHER_TYPES[etype]}{num:04d}" if year < 27 else None
        if base is not None:
            return base + calc_other_check_digit(base)
    if slot in (1, 2):
        base = f"{53_000_000 + serial:08d}"  # business (ROB): 8 digits
        return base + calc_business_check_digit(base)
    # Local company (ROC): year 1990-2025 + 5 digits.
    year, num = divmod(serial, 100_000)
    base = f"{1990 + year % 36}{num:05d}"
    if year >= 36:
        raise ValueError("too many rows for unique UENs")
    return base + calc_local_company_check_digit(base)


def _bic(name_en: str, country: str, rng: random.Random) -> str:
    letters = "".join(c for c in name_en.upper() if c.isalpha() and c.isascii())[5:]
    bank = (letters + "XXXX")[:4]
    branch = rng.choice(("", "XXX", "CQG", "SGX"))
    return f"{bank}{country}{rng.choice(('2X', 'SG', 'CQ', 'BJ'))}{branch}"


class _Weighted:
    def __init__(self, weights: Mapping[str, float]) -> None:
        self.values = list(weights)
        self.cum = list(itertools.accumulate(weights.values()))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum)[0]


def generate(n: int, seed: int = 2026) -> Iterator[dict[str, str]]:
    """``n`` synthetic organisations as CSV records (every value a string; empty means absent)."""
    if n > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows")
    rng = random.Random(seed)
    jurisdictions, kinds = _Weighted(JURISDICTION_WEIGHTS), _Weighted(KIND_WEIGHTS)
    sectors, statuses = _Weighted(SECTOR_WEIGHTS), _Weighted(STATUS_WEIGHTS)
    uen_serial = 0
    uscc_serial = 0
    lei_serial = 0
    for i in range(n):
        jurisdiction = jurisdictions.pick(rng)
        kind = kinds.pick(rng)
        sector = (
            "other"
            if kind in ("government_agency", "regulator", "association") and rng.random() < 0.5
            else sectors.pick(rng)
        )
        if kind in ("government_agency", "regulator") or (kind == "association" and rng.random() < 0.5):
            status = ""  # outside the settlement pipeline
        else:
            status = statuses.pick(rng)
        word_en, word_zh = rng.choice(SECTOR_WORDS[sector])
        if jurisdiction == "CN":
            (a_en, a_zh), (b_en, b_zh) = rng.sample(SYLLABLES, 2)
            stem_en, stem_zh = a_en + b_en.lower(), a_zh + b_zh
            city_en, city_zh = rng.choice(CN_CITIES)
            suffix_en, suffix_zh = rng.choice(CN_SUFFIX[kind])
            name_en = f"Bench {city_en} {stem_en} {word_en} {suffix_en}"
            name_zh = f"基准{city_zh}{stem_zh}{word_zh}{suffix_zh}"
        else:
            stem_en, stem_zh = rng.choice(SG_STEMS)
            a_en, a_zh = rng.choice(SYLLABLES)
            suffix_en, suffix_zh = rng.choice(SG_SUFFIX[kind])
            name_en = f"Bench {stem_en} {a_en} {word_en} {suffix_en}"
            name_zh = f"基准{stem_zh}{a_zh}{word_zh}{suffix_zh}"
        slug = stem_en.lower().replace(" ", "-")
        record = {
            "id": f"bench-{slug}-{i:07d}",
            "kind": kind,
            "jurisdiction": jurisdiction,
            "name_en": name_en,
            "name_zh": name_zh,
            "sector": sector,
            "status": status,
            "uscc": "",
            "uen": "",
            "lei": "",
            "bic": "",
            "source": SOURCE,
        }
        if jurisdiction == "CN":
            record["uscc"] = make_uscc(uscc_serial, kind, rng)
            uscc_serial += 1
        elif jurisdiction == "SG":
            record["uen"] = make_uen(uen_serial, kind)
            uen_serial += 1
        lei_share = 0.6 if kind == "financial_institution" else 0.08
        if rng.random() < lei_share:
            record["lei"] = make_lei(lei_serial)
            lei_serial += 1
        if kind == "financial_institution" and rng.random() < 0.5:
            record["bic"] = _bic(name_en, jurisdiction, rng)
        yield record


def write_csv(out: TextIO, n: int, seed: int = 2026) -> int:
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    rows = 0
    for record in generate(n, seed):
        writer.writerow(record)
        rows += 1
    return rows


def write_csv_file(path: Path, n: int, seed: int = 2026) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        return write_csv(fh, n, seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of organisations")
    parser.add_argument("-o", "--output", type=Path, help="CSV file (default: stdout)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.output:
        write_csv_file(args.output, args.n, args.seed)
    else:
        write_csv(sys.stdout, args.n, args.seed)


if __name__ == "__main__":
    main()
