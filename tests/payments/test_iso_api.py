"""ISO 20022 over HTTP on both backends: pacs.008 → payment → pacs.002, attacks refused, camt.053 statements."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from fintech_zone.payments import iso20022 as iso
from tests.payments.conftest import Rails

DATA = Path(__file__).parent / "data"
PACS008 = "/api/v1/iso20022/pacs.008"
P2 = {"p": iso.NAMESPACES[iso.PACS002]}
C53 = {"c": iso.NAMESPACES[iso.CAMT053]}
# The samples' made-up agents → the rails fixture's participants.
BICS = {"FZCQCNCQXXX": "CQCBCNBCXXX", "FZSGSGSGXXX": "SGTBSGSGXXX"}


def message(name: str, uetr: str | None = None, **replace: str) -> tuple[bytes, str]:
    text = (DATA / name).read_text(encoding="utf-8")
    for old, new in {**BICS, **replace}.items():
        text = text.replace(old, new)
    original = text.split("<UETR>")[1].split("</UETR>")[0]
    fresh = uetr or str(uuid.uuid4())
    return text.replace(original, fresh).encode(), fresh


def post_xml(rails: Rails, body: bytes, as_: str = "cq-bank") -> Any:
    headers = {**rails.tokens[as_], "Content-Type": "application/xml"}
    return rails.client.post(PACS008, content=body, headers=headers)


def status_of(response: Any) -> tuple[str, str | None, str]:
    assert response.headers["content-type"].startswith("application/xml")
    iso.validate(iso.PACS002, response.content)
    root = etree.fromstring(response.content)
    status = root.findtext(".//p:TxInfAndSts/p:TxSts", namespaces=P2) or root.findtext(".//p:GrpSts", namespaces=P2)
    reason = root.findtext(".//p:StsRsnInf/p:Rsn/p:Cd", namespaces=P2)
    info = "".join(root.xpath(".//p:StsRsnInf/p:AddtlInf/text()", namespaces=P2))  # split at 105 chars
    return str(status), reason, info


def test_a_cross_border_pacs008_settles_and_is_answered_acsc(rails: Rails) -> None:
    # 1,852.00 SGD to settle; up to 10,100.00 CNY instructed (the sample's 10,000 no longer covers 0.1850 − 20 bps).
    body, uetr = message("pacs008_cny_sgd.xml", **{'<InstdAmt Ccy="CNY">10000.00': '<InstdAmt Ccy="CNY">10100.00'})
    sg_before = rails.balance("sg-bank", "SGD")
    r = post_xml(rails, body)
    assert r.status_code == 200 and status_of(r)[0] == "ACSC", r.text
    payment = rails.get(f"/api/v1/payments/{uetr}").json()
    assert (payment["status"], payment["source_asset"], payment["target_asset"]) == ("settled", "CNY", "SGD")
    assert payment["target_amount"] == 185_200 and payment["source_amount"] <= 1_010_000
    assert payment["creditor"]["name"] == "Lion City Precision Components Pte. Ltd."
    assert rails.balance("sg-bank", "SGD") == sg_before + 185_200
    # The same message again is the same payment: ACSC, settled once.
    assert status_of(post_xml(rails, body))[0] == "ACSC"
    assert rails.balance("sg-bank", "SGD") == sg_before + 185_200
    # A different payment under that UETR is a duplicate.
    changed, _ = message("pacs008_cny_sgd.xml", uetr=uetr, **{"1852.00": "1853.00"})
    assert status_of(post_xml(rails, changed))[:2] == ("RJCT", "DUPL")
    # The instructed amount no longer covers the settlement amount at today's rate: RJCT, nothing moves.
    short, _ = message("pacs008_cny_sgd.xml")
    assert status_of(post_xml(rails, short))[:2] == ("RJCT", "NARR")
    assert rails.balance("sg-bank", "SGD") == sg_before + 185_200


def test_other_currencies_unknown_agents_and_sanctioned_names_get_a_proper_rjct(rails: Rails) -> None:
    usd, _ = message("pacs008_usd.xml")
    r = post_xml(rails, usd)
    assert r.status_code == 200 and status_of(r)[:2] == ("RJCT", "AM11")
    unknown, _ = message("pacs008_sgd_domestic.xml", FZSBSGSGXXX="SGTBSGSGXXX", FZSGSGSGXXX="ZZZZSGSGXXX")
    assert status_of(post_xml(rails, unknown, "sg-bank"))[:2] == ("RJCT", "RC01")
    listed, _ = message(
        "pacs008_cny_sgd.xml",
        **{
            "Lion City Precision Components Pte. Ltd.": "Acme Demo Trading Limited",
            '<InstdAmt Ccy="CNY">10000.00': '<InstdAmt Ccy="CNY">10100.00',
        },
    )
    status, reason, info = status_of(post_xml(rails, listed))
    assert (status, reason) == ("RJCT", "RR04") and "DEMO-007" in info
    # A bank sends as itself only.
    assert post_xml(rails, listed, "sg-bank").status_code == 403


def test_malformed_schema_invalid_and_hostile_xml_is_refused_with_ff01(rails: Rails) -> None:
    invalid = post_xml(rails, (DATA / "pacs008_schema_invalid.xml").read_bytes())
    status, reason, info = status_of(invalid)
    assert invalid.status_code == 400 and (status, reason) == ("RJCT", "FF01") and "/Document/" in info
    for name in ("billion_laughs.xml", "xxe_file.xml"):
        start = time.perf_counter()
        r = post_xml(rails, (DATA / name).read_bytes())
        assert r.status_code == 400 and status_of(r)[:2] == ("RJCT", "FF01")
        assert b"root:" not in r.content and time.perf_counter() - start < 2
    for body in (b"", b"<not-closed>", b"\xff\xfe garbage", b'{"json": true}'):
        r = post_xml(rails, body)
        assert r.status_code == 400 and status_of(r)[:2] == ("RJCT", "FF01")
    huge = b"<Document>" + b"x" * (2 * 1024 * 1024) + b"</Document>"
    r = post_xml(rails, huge)
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")


def test_camt053_statement_of_a_settlement_account(rails: Rails) -> None:
    body, uetr = message("pacs008_cny_sgd.xml", **{'<InstdAmt Ccy="CNY">10000.00': '<InstdAmt Ccy="CNY">10100.00'})
    assert status_of(post_xml(rails, body))[0] == "ACSC"
    today = datetime.now(UTC).date().isoformat()
    url = f"/api/v1/iso20022/camt.053?account=pay:sg-bank:SGD&from={today}&to={today}"
    r = rails.get(url, "sg-bank")
    assert r.status_code == 200, r.text
    iso.validate(iso.CAMT053, r.content)
    root = etree.fromstring(r.content)
    balances = {
        b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=C53): b.findtext("c:Amt", namespaces=C53)
        for b in root.xpath(".//c:Stmt/c:Bal", namespaces=C53)
    }
    # Opened today: the day starts at zero; issuance, funding the FX provider and this payment are its entries.
    assert balances["OPBD"] == "0.00"
    assert balances["CLBD"] == f"{rails.balance('sg-bank', 'SGD') / 100:.2f}"
    uetrs = root.xpath(".//c:Ntry//c:UETR/text()", namespaces=C53)
    assert uetr in uetrs
    assert rails.get(url, "cq-bank").status_code == 404  # another participant's account does not exist for it
    r = rails.get(f"/api/v1/iso20022/camt.053?account=pay:sg-bank:SGD&from={today}&to=2020-01-01", "sg-bank")
    assert r.status_code == 422
