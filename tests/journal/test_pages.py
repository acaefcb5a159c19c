"""The journal's public verify page: the latest signed head and the validators' keys for everyone, and for a
reference its leaf, inclusion path and the head it verifies against; in Chinese and English, without signing in."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fintech_zone.db import Database
from fintech_zone.journal import keys, service
from fintech_zone.journal.model import NODES
from fintech_zone.payments.model import transfer_id
from fintech_zone.settings import Settings
from tests.payments import conftest as payments_fixtures
from tests.payments.conftest import Rails

make_rails = payments_fixtures.make_rails  # the rails world of the payments tests, on this module's settings

VERIFIED = "Verified: this record is in the log the two validators signed."
PENDING = "Recorded: this record is newer than the latest signed tree head."
NO_HEAD = "No tree head has been signed by both validators yet."
UNKNOWN = "No record in the journal holds this reference:"
PATH_ITEM = re.compile(r'<li><code class="hash"[^>]*>([0-9a-f]{64})</code></li>')


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "journal-keys"
    for node in NODES:
        keys.generate(directory, node)
    return directory


@pytest.fixture
def settings(db_url: str, key_dir: Path) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key",
        migrate_on_start=False,
        journal_key_dir=key_dir,
        journal_signer=False,  # the tests sign heads themselves, when they choose
    )


def sign(db: Database, key_dir: Path) -> None:
    """Both validators sign a head of the log as it stands."""
    assert service.make_head(db) is not None
    for node in NODES:
        key = keys.load_private(key_dir, node)
        assert key is not None
        assert service.sign_heads(db, node, key)


def pay(rails: Rails) -> str:
    r = rails.post("/api/v1/payments", rails.payment(target_asset="CNY"), "cq-bank")
    assert r.status_code == 201 and r.json()["status"] == "settled", r.text
    return str(r.json()["uetr"])


def page(client: TestClient, ref: str | None = None, lang: str = "en") -> tuple[int, str]:
    params = {"lang": lang} | ({"ref": ref} if ref is not None else {})
    r = client.get("/journal", params=params, headers={"Accept": "text/html"})
    assert r.headers["content-type"].startswith("text/html")
    return r.status_code, html.unescape(r.text)


def path_hashes(text: str) -> list[str]:
    listed = re.search(r'<ol class="path">(.*?)</ol>', text, re.S)
    return PATH_ITEM.findall(listed.group(1)) if listed else []


def test_the_page_shows_the_latest_head_and_both_keys_without_signing_in(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path
) -> None:
    make_rails()
    status, text = page(client)
    assert status == 200 and NO_HEAD in text and 'name="ref"' in text

    sign(db, key_dir)
    signed = service.latest_head(db)
    status, text = page(client)
    assert status == 200
    assert "Sign in" in text  # nobody is signed in: the page is public
    assert '<label for="ref">Payment reference' in text and '<input id="ref" name="ref"' in text
    assert "Latest signed tree head" in text and f"{signed.head.tree_size} leaves" in text
    assert signed.head.root_hash.hex() in text
    assert signed.head.signed_message().decode() in text
    for node, public in keys.public_keys(key_dir).items():
        assert public.hex() in text
        assert signed.signatures[node].hex() in text
    assert text.count("valid under the published key") == 2
    for address in ("/api/v1/journal/head", "/api/v1/journal/keys", "/api/v1/journal/leaves/{index}"):
        assert f'"{address}"' in text or f"<code>{address}</code>" in text
    assert "/api/v1/journal/proofs/inclusion?index=I&tree_size=N" in text
    assert VERIFIED not in text and UNKNOWN not in text
    # The time is written out in UTC next to the milliseconds the validators signed.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", text)
    assert f"({signed.head.timestamp} ms since 1970-01-01 UTC)" in text


def test_a_payments_uetr_shows_its_leaf_path_and_the_head_it_verifies_against(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path
) -> None:
    rails = make_rails()
    uetr = pay(rails)
    sign(db, key_dir)
    head = service.latest_head(db).head
    index = service.lookup(db, uetr)[-1]
    kind, _data, leaf_hash = service.get_leaf(db, index)

    status, text = page(client, uetr)
    assert status == 200 and VERIFIED in text
    assert f"<dd>{index}</dd>" in text and kind == "payment.decision" and "A payment decision" in text
    assert leaf_hash.hex() in text
    assert f'"uetr": "{uetr}"' in text and '"status": "settled"' in text  # the leaf, indented for reading
    expected = [h.hex() for h in service.inclusion_proof(db, index, head.tree_size)]
    assert expected and path_hashes(text) == expected
    assert "The signed tree head it is verified against" in text and head.root_hash.hex() in text
    assert f"/api/v1/journal/proofs/inclusion?index={index}&tree_size={head.tree_size}" in text
    assert f"/api/v1/journal/leaves/{index}" in text

    # The same proof by the other references the journal files: a ledger transfer id finds its batch's leaf.
    status, text = page(client, transfer_id(uetr, 1))
    assert status == 200 and VERIFIED in text and "A ledger batch" in text
    assert f"<dd>{service.lookup(db, transfer_id(uetr, 1))[-1]}</dd>" in text


def test_an_issuance_id_verifies(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path
) -> None:
    rails = make_rails(fund=False)
    body = {"participant_id": "cq-bank", "asset": "CNY", "amount": 1_000_000}
    assert rails.post("/api/v1/payments/reserves", body, "pboc-cq").status_code == 201
    cap = {"participant_id": "cq-bank", "asset": "CNY", "cap": 1_000_000}
    assert rails.post("/api/v1/payments/caps", cap, "pboc-cq").status_code == 200
    issued = rails.post("/api/v1/payments/issuance", {**body, "amount": 500_000}, "pboc-cq")
    assert issued.status_code == 201, issued.text
    sign(db, key_dir)
    status, text = page(client, issued.json()["id"])
    assert status == 200 and VERIFIED in text and "An issuance, redemption or reserve credit" in text


def test_a_record_newer_than_the_signed_head_is_pending(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path
) -> None:
    rails = make_rails()
    uetr = pay(rails)
    status, text = page(client, uetr)  # no head signed at all yet
    assert status == 200 and "Recorded: no tree head has been signed by both validators yet." in text
    assert VERIFIED not in text and not path_hashes(text)

    sign(db, key_dir)
    later = pay(rails)
    status, text = page(client, later)
    assert status == 200 and PENDING in text and "within a few seconds — reload this page" in text
    assert VERIFIED not in text and not path_hashes(text)
    assert "The path is given once a signed tree head covers this leaf." in text
    assert "Latest signed tree head" in text  # what is shown is the latest head, not one it verifies against
    assert service.latest_head(db).head.root_hash.hex() in text

    sign(db, key_dir)  # the next head covers it
    assert VERIFIED in page(client, later)[1]


def test_an_unknown_reference_is_404_with_the_form(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path
) -> None:
    make_rails()
    sign(db, key_dir)
    for ref in ("00000000-0000-4000-8000-000000000000", "<script>alert(1)</script>", "x" * 65):
        r = client.get("/journal", params={"ref": ref, "lang": "en"})
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert UNKNOWN in r.text and '<form class="filters" method="get" action="/journal"' in r.text
        assert "<script>alert" not in r.text  # the reference is echoed escaped
        assert VERIFIED not in r.text and "Latest signed tree head" in r.text
    # An empty search is the plain page.
    status, text = page(client, "  ")
    assert status == 200 and UNKNOWN not in text


def test_a_signature_that_does_not_match_the_published_key_is_not_verified(
    make_rails: Callable[..., Rails], client: TestClient, db: Database, key_dir: Path, tmp_path: Path
) -> None:
    rails = make_rails()
    uetr = pay(rails)
    sign(db, key_dir)
    # The page now publishes another Singapore key than the one that signed.
    other = tmp_path / "other-keys"
    keys.generate(other, "sg")
    keys.public_path(key_dir, "sg").write_text(keys.public_path(other, "sg").read_text())
    status, text = page(client, uetr)
    assert status == 200 and VERIFIED not in text
    assert "Not verified: the tree head's signatures do not check against the validators' published keys." in text
    assert "does not check against the published key" in text and "valid under the published key" in text


@pytest.mark.parametrize(
    ("lang", "present", "absent"),
    [
        (
            "zh",
            ["验证一笔支付", "已验证：此记录在两个验证节点共同签名的日志中。", "重庆验证节点", "新加坡验证节点"],
            "Verify a payment",
        ),
        ("en", ["Verify a payment", VERIFIED, "Chongqing validator", "Singapore validator"], "验证一笔支付"),
    ],
)
def test_the_page_speaks_chinese_and_english(
    make_rails: Callable[..., Rails],
    client: TestClient,
    db: Database,
    key_dir: Path,
    lang: str,
    present: list[str],
    absent: str,
) -> None:
    uetr = pay(make_rails())
    sign(db, key_dir)
    status, text = page(client, uetr, lang)
    assert status == 200
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in text
    for words in present:
        assert words in text
    assert absent not in text
    # The choice sticks for the next page, like everywhere else.
    assert client.cookies.get("fz_lang") == lang
