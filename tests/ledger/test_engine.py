"""The ledger's pure batch engine: every result code, two-phase transfers, limits, overflows, linked chains,
idempotency, timestamps and what an ``Outcome`` reports. No database.

Result codes are written out as literals on purpose: renaming one in the engine must fail a test here.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from fintech_zone.ledger import batch, engine
from fintech_zone.ledger.engine import create_accounts, create_transfers, expire_pending
from fintech_zone.ledger.model import (
    MAX_AMOUNT,
    MAX_TIMEOUT,
    NS,
    Account,
    AccountFlag,
    Asset,
    AssetKind,
    Book,
    NewAccount,
    Outcome,
    Pending,
    PendingState,
    Transfer,
    TransferFlag,
    all_ids_valid,
)

A = AccountFlag
F = TransferFlag
MAX = 2**63 - 1  # written out: the limit is part of the contract, not whatever the model says today
NOW = 1_700_000_000 * NS
LINKED, PENDING, POST, VOID = F.LINKED, F.PENDING, F.POST_PENDING_TRANSFER, F.VOID_PENDING_TRANSFER
ASSETS = {
    "CNY": Asset("CNY", AssetKind.FIAT_RESERVE, "CNY", 2),
    "SGD": Asset("SGD", AssetKind.WHOLESALE_TOKEN, "SGD", 2, issuer_id="mas"),
}
ACCOUNTS = (
    NewAccount("bank", "CNY", 1),  # bank, vault and mint have no limits: they may go negative either way
    NewAccount("vault", "CNY", 1),
    NewAccount("mint", "CNY", 1),
    NewAccount("alice", "CNY", 2, frozenset({A.DEBITS_MUST_NOT_EXCEED_CREDITS, A.HISTORY})),
    NewAccount("bob", "CNY", 2, frozenset({A.DEBITS_MUST_NOT_EXCEED_CREDITS})),
    NewAccount("loan", "CNY", 3, frozenset({A.CREDITS_MUST_NOT_EXCEED_DEBITS, A.HISTORY})),
    NewAccount("shut", "CNY", 1, frozenset({A.CLOSED})),
    NewAccount("sg-bank", "SGD", 1),
    NewAccount("sg-alice", "SGD", 2),
)


def new_book() -> Book:
    book = Book(assets=dict(ASSETS), accounts={}, transfers={}, pendings={}, failed={})
    assert create_accounts(book, ACCOUNTS, NOW).results == ["created"] * len(ACCOUNTS)
    return book


@pytest.fixture
def book() -> Book:
    return new_book()


def tr(
    id: str,
    dr: str = "bank",
    cr: str = "alice",
    amount: int = 100,
    *flags: TransferFlag,
    ledger: str = "CNY",
    code: int = 1,
    pending_id: str | None = None,
    timeout: int = 0,
    reference: str | None = None,
    user_data: int = 0,
) -> Transfer:
    return Transfer(id, dr, cr, amount, ledger, code, frozenset(flags), pending_id, timeout, reference, user_data)


def post(id: str, pending_id: str | None, amount: int = 0, *flags: TransferFlag, **fields: object) -> Transfer:
    return replace(Transfer(id, "", "", amount, "", 0, frozenset({POST, *flags}), pending_id), **fields)  # type: ignore[arg-type]


def void(id: str, pending_id: str | None, amount: int = 0, *flags: TransferFlag, **fields: object) -> Transfer:
    return replace(Transfer(id, "", "", amount, "", 0, frozenset({VOID, *flags}), pending_id), **fields)  # type: ignore[arg-type]


def send(book: Book, *events: Transfer, now: int = NOW) -> Outcome:
    return create_transfers(book, events, now)


def codes(book: Book, *events: Transfer, now: int = NOW) -> list[str]:
    return send(book, *events, now=now).results


def bal(book: Book, account_id: str) -> tuple[int, int, int, int]:
    """(debits_pending, debits_posted, credits_pending, credits_posted)"""
    a = book.accounts[account_id]
    return a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted


def bal_of(a: Account) -> tuple[int, int, int, int]:
    return a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted


def state(book: Book, pending_id: str) -> PendingState:
    return book.pendings[pending_id].state


def balances(book: Book) -> dict[str, tuple[int, int, int, int]]:
    return {i: bal(book, i) for i in book.accounts}


# -- one case per result code ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    code: str
    batch: tuple[Transfer, ...]
    setup: tuple[Transfer, ...] = ()
    at: int = -1  # the event of the batch that must answer `code`
    now: int = NOW


P1 = tr("p1", "bank", "alice", 100, PENDING)
T1 = tr("t1", "bank", "alice", 100)
TRANSFER_CASES = [
    Case("created", (T1,)),
    Case("exists", (T1,), setup=(T1,)),
    Case("exists_with_different_flags", (tr("t1", "bank", "alice", 100, PENDING),), setup=(T1,)),
    Case("exists_with_different_debit_account_id", (tr("t1", "vault", "alice", 100),), setup=(T1,)),
    Case("exists_with_different_credit_account_id", (tr("t1", "bank", "bob", 100),), setup=(T1,)),
    Case("exists_with_different_amount", (tr("t1", "bank", "alice", 99),), setup=(T1,)),
    Case("exists_with_different_pending_id", (tr("t1", "bank", "alice", 100, pending_id="p1"),), setup=(T1,)),
    Case("exists_with_different_ledger", (tr("t1", "bank", "alice", 100, ledger="SGD"),), setup=(T1,)),
    Case("exists_with_different_code", (tr("t1", "bank", "alice", 100, code=2),), setup=(T1,)),
    Case(
        "exists_with_different_timeout",
        (tr("p1", "bank", "alice", 100, PENDING, timeout=6),),
        setup=(tr("p1", "bank", "alice", 100, PENDING, timeout=5),),
    ),
    Case("exists_with_different_reference", (tr("t1", "bank", "alice", 100, reference="inv-2"),), setup=(T1,)),
    Case("exists_with_different_user_data", (tr("t1", "bank", "alice", 100, user_data=7),), setup=(T1,)),
    Case("id_invalid", (tr("bad id"),)),
    Case("id_already_failed", (tr("t1", "alice", "bank", 100),), setup=(tr("t1", "alice", "bank", 100),)),
    Case("flags_are_mutually_exclusive", (tr("t1", "bank", "alice", 100, PENDING, POST, pending_id="p1"),)),
    Case("reference_invalid", (tr("t1", "bank", "alice", 1, reference="inv\x00"),)),
    Case("amount_must_not_be_negative", (tr("t1", amount=-1),)),
    Case("amount_exceeds_maximum", (tr("t1", amount=MAX + 1),)),
    Case("timeout_out_of_range", (tr("t1", "bank", "alice", 1, PENDING, timeout=2**31),)),
    Case("pending_id_must_be_empty", (tr("t1", pending_id="p1"),)),
    Case("timeout_reserved_for_pending_transfer", (tr("t1", timeout=5),)),
    Case("amount_must_not_be_zero", (tr("t1", amount=0),)),
    Case("accounts_must_be_different", (tr("t1", "bank", "bank"),)),
    Case("debit_account_not_found", (tr("t1", "ghost", "alice"),)),
    Case("credit_account_not_found", (tr("t1", "bank", "ghost"),)),
    Case("accounts_must_have_the_same_ledger", (tr("t1", "bank", "sg-alice"),)),
    Case("transfer_must_have_the_same_ledger_as_accounts", (tr("t1", "bank", "alice", ledger="SGD"),)),
    Case("code_must_be_positive", (tr("t1", code=0),)),
    Case("debit_account_closed", (tr("t1", "shut", "alice"),)),
    Case("credit_account_closed", (tr("t1", "bank", "shut"),)),
    Case(
        "overflows_debits_pending",
        (tr("t1", "bank", "mint", 1, PENDING),),
        setup=(tr("s", "bank", "vault", MAX, PENDING),),
    ),
    Case(
        "overflows_credits_pending",
        (tr("t1", "mint", "vault", 1, PENDING),),
        setup=(tr("s", "bank", "vault", MAX, PENDING),),
    ),
    Case("overflows_debits_posted", (tr("t1", "bank", "mint", 1),), setup=(tr("s", "bank", "vault", MAX),)),
    Case("overflows_credits_posted", (tr("t1", "mint", "vault", 1),), setup=(tr("s", "bank", "vault", MAX),)),
    Case("overflows_debits", (tr("t1", "bank", "mint", 1),), setup=(tr("s", "bank", "vault", MAX, PENDING),)),
    Case("overflows_credits", (tr("t1", "mint", "vault", 1),), setup=(tr("s", "bank", "vault", MAX, PENDING),)),
    Case("exceeds_credits", (tr("t1", "alice", "bank", 1),)),
    Case("exceeds_debits", (tr("t1", "bank", "loan", 1),)),
    Case("pending_id_must_not_be_empty", (post("x", None),), setup=(P1,)),
    Case("pending_id_must_be_different", (post("x", "x"),), setup=(P1,)),
    Case("pending_transfer_not_found", (post("x", "nope"),), setup=(P1,)),
    Case("pending_transfer_not_pending", (post("x", "t1"),), setup=(T1,)),
    Case("pending_transfer_has_different_debit_account_id", (post("x", "p1", debit_account_id="vault"),), setup=(P1,)),
    Case("pending_transfer_has_different_credit_account_id", (post("x", "p1", credit_account_id="bob"),), setup=(P1,)),
    Case("pending_transfer_has_different_ledger", (post("x", "p1", ledger="SGD"),), setup=(P1,)),
    Case("pending_transfer_has_different_code", (post("x", "p1", code=7),), setup=(P1,)),
    Case("pending_transfer_has_different_amount", (void("x", "p1", 99),), setup=(P1,)),
    Case("pending_transfer_already_posted", (post("x2", "p1"),), setup=(P1, post("x1", "p1"))),
    Case("pending_transfer_already_voided", (post("x2", "p1"),), setup=(P1, void("x1", "p1"))),
    Case(
        "pending_transfer_expired",
        (post("x", "p1"),),
        setup=(tr("p1", "bank", "alice", 100, PENDING, timeout=1),),
        now=NOW + 2 * NS,
    ),
    Case("exceeds_pending_transfer_amount", (post("x", "p1", 101),), setup=(P1,)),
    Case("linked_event_failed", (tr("t1", "bank", "alice", 1, LINKED), tr("t2", "alice", "bank", 9)), at=0),
    Case("linked_event_chain_open", (tr("t1", "bank", "alice", 1, LINKED),)),
]


@pytest.mark.parametrize("case", TRANSFER_CASES, ids=lambda c: c.code)
def test_transfer_result_code(book: Book, case: Case) -> None:
    before = balances(book)
    setup = send(book, *case.setup).results
    assert all(r == "created" for r in setup) or case.code == "id_already_failed", setup
    after_setup = balances(book)
    outcome = send(book, *case.batch, now=case.now)
    assert outcome.results[case.at] == case.code
    if case.code != "created":
        assert balances(book) == after_setup  # a failure (or `exists`) never moves money
        assert outcome.transfers == []
    else:
        assert balances(book) != before


@dataclass(frozen=True)
class AccountCase:
    code: str
    batch: tuple[NewAccount, ...]
    setup: tuple[NewAccount, ...] = ()
    at: int = -1
    owners: frozenset[str] | None = None


CAROL = NewAccount("carol", "CNY", 1, owner_id="org-1")
ACCOUNT_CASES = [
    AccountCase("created", (CAROL,)),
    AccountCase("exists", (CAROL,), setup=(CAROL,)),
    AccountCase("exists_with_different_ledger", (replace(CAROL, ledger="SGD"),), setup=(CAROL,)),
    AccountCase("exists_with_different_code", (replace(CAROL, code=2),), setup=(CAROL,)),
    AccountCase("exists_with_different_flags", (replace(CAROL, flags=frozenset({A.HISTORY})),), setup=(CAROL,)),
    AccountCase("exists_with_different_owner_id", (replace(CAROL, owner_id="org-2"),), setup=(CAROL,)),
    AccountCase("id_invalid", (NewAccount("carol\n", "CNY", 1),)),
    AccountCase("id_already_failed", (CAROL,), setup=(replace(CAROL, ledger="XXX"),)),
    AccountCase(
        "flags_are_mutually_exclusive",
        (replace(CAROL, flags=frozenset({A.DEBITS_MUST_NOT_EXCEED_CREDITS, A.CREDITS_MUST_NOT_EXCEED_DEBITS})),),
    ),
    AccountCase("ledger_not_found", (replace(CAROL, ledger="XXX"),)),
    AccountCase("code_must_be_positive", (replace(CAROL, code=0),)),
    AccountCase("owner_not_found", (CAROL,), owners=frozenset({"org-2"})),
    AccountCase(
        "linked_event_failed",
        (replace(CAROL, flags=frozenset({A.LINKED})), NewAccount("dave", "XXX", 1)),
        at=0,
    ),
    AccountCase("linked_event_chain_open", (replace(CAROL, flags=frozenset({A.LINKED})),)),
]


@pytest.mark.parametrize("case", ACCOUNT_CASES, ids=lambda c: c.code)
def test_account_result_code(book: Book, case: AccountCase) -> None:
    create_accounts(book, case.setup, NOW)
    existing = set(book.accounts)
    outcome = create_accounts(book, case.batch, NOW, set(case.owners) if case.owners is not None else None)
    assert outcome.results[case.at] == case.code
    assert (set(book.accounts) - existing == {"carol"}) == (case.code == "created")


def _engine_codes() -> tuple[set[str], set[str]]:
    """Every result code the engine's source can produce, for accounts and for transfers (the codes of any event,
    such as those of linked chains, are the string constants of ``batch``)."""
    tree = ast.parse(Path(engine.__file__).read_text(encoding="utf-8"))
    shared = {
        node.value.value
        for node in ast.parse(Path(batch.__file__).read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    accounts, transfers = set(shared), set(shared)
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        found, compared = (
            (accounts, engine.ACCOUNT_COMPARED)
            if fn.name == "create_accounts"
            else (transfers, engine.TRANSFER_COMPARED)
        )
        for node in ast.walk(fn):
            if not isinstance(node, ast.Return):
                continue
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
            elif isinstance(node.value, ast.JoinedStr):
                prefix = node.value.values[0]
                assert isinstance(prefix, ast.Constant) and prefix.value == "exists_with_different_"
                found.update(f"exists_with_different_{name}" for name in compared)
    return accounts, transfers


def test_every_result_code_the_engine_can_return_has_a_case() -> None:
    accounts, transfers = _engine_codes()
    assert {"created", "exists", "linked_event_failed", "linked_event_chain_open"} <= accounts & transfers
    assert {c.code for c in ACCOUNT_CASES} == accounts
    assert {c.code for c in TRANSFER_CASES} == transfers


def test_limits_are_what_the_columns_hold() -> None:
    assert MAX_AMOUNT == MAX
    assert MAX_TIMEOUT == 2**31 - 1


# -- two-phase transfers -----------------------------------------------------------------------------------------


def test_pending_then_partial_post(book: Book) -> None:
    assert codes(book, tr("p1", "bank", "alice", 100, PENDING)) == ["created"]
    assert bal(book, "bank") == (100, 0, 0, 0)
    assert bal(book, "alice") == (0, 0, 100, 0)
    outcome = send(book, post("x1", "p1", 30))
    assert outcome.results == ["created"]
    assert bal(book, "bank") == (0, 30, 0, 0)  # the 70 not posted go back
    assert bal(book, "alice") == (0, 0, 0, 30)
    assert book.pendings["p1"] == Pending("p1", PendingState.POSTED, None, 30)
    [x1] = outcome.transfers
    assert (x1.debit_account_id, x1.credit_account_id, x1.ledger, x1.code, x1.amount) == ("bank", "alice", "CNY", 1, 30)
    assert x1.pending_id == "p1"


def test_post_with_amount_zero_posts_the_whole_pending_amount(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, code=5))
    outcome = send(book, post("x1", "p1"))
    assert outcome.results == ["created"]
    assert outcome.transfers[0].amount == 100
    assert outcome.transfers[0].requested_amount == 0
    assert outcome.transfers[0].code == 5  # taken from the pending transfer
    assert bal(book, "alice") == (0, 0, 0, 100)
    assert book.pendings["p1"].posted_amount == 100
    # Re-sending the post as it was sent (amount 0) is `exists`, although 100 was recorded.
    assert codes(book, post("x1", "p1")) == ["exists"]
    assert codes(book, post("x1", "p1", 100)) == ["exists_with_different_amount"]


def test_post_may_repeat_the_pending_transfers_fields(book: Book) -> None:
    send(book, P1)
    event = post("x1", "p1", 100, debit_account_id="bank", credit_account_id="alice", ledger="CNY", code=1)
    assert codes(book, event) == ["created"]
    assert codes(book, event) == ["exists"]
    assert codes(book, post("x1", "p1", 100)) == ["exists"]  # empty fields are not compared on a post


def test_pending_then_void(book: Book) -> None:
    send(book, P1)
    outcome = send(book, void("v1", "p1"))
    assert outcome.results == ["created"]
    assert bal(book, "bank") == bal(book, "alice") == (0, 0, 0, 0)
    assert state(book, "p1") is PendingState.VOIDED
    assert outcome.transfers[0].amount == 100
    assert codes(book, void("v2", "p1", 100)) == ["pending_transfer_already_voided"]


def test_void_with_the_exact_amount(book: Book) -> None:
    send(book, P1)
    assert codes(book, void("v1", "p1", 101)) == ["pending_transfer_has_different_amount"]
    assert codes(book, void("v2", "p1", 100)) == ["created"]


def test_post_after_void_and_void_after_post_and_double_post(book: Book) -> None:
    send(book, P1, tr("p2", "bank", "alice", 50, PENDING))
    assert codes(book, void("v1", "p1"), post("x1", "p1")) == ["created", "pending_transfer_already_voided"]
    assert codes(book, post("x2", "p2", 10), void("v2", "p2")) == ["created", "pending_transfer_already_posted"]
    assert codes(book, post("x3", "p2", 10)) == ["pending_transfer_already_posted"]  # a pending resolves once
    assert bal(book, "alice") == (0, 0, 0, 10)


def test_pending_expires_through_expire_pending(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, timeout=60), tr("p2", "bank", "bob", 5, PENDING))
    expires_at = book.pendings["p1"].expires_at
    assert expires_at == book.transfers["p1"].timestamp + 60 * NS
    assert book.pendings["p2"].expires_at is None  # no timeout: never expires

    early = expire_pending(book, expires_at - 1)
    assert early.pendings == {} and early.accounts == {}
    assert bal(book, "alice") == (0, 0, 100, 0)

    outcome = expire_pending(book, expires_at)
    assert outcome.results == []
    assert outcome.pendings == {"p1": Pending("p1", PendingState.EXPIRED, expires_at)}
    assert set(outcome.accounts) == {"bank", "alice"}
    assert bal(book, "alice") == (0, 0, 0, 0)
    assert bal(book, "bank") == (5, 0, 0, 0)  # p2 is still pending
    assert [a.id for a in outcome.history] == ["alice"]  # only `history` accounts get snapshots
    assert codes(book, post("x1", "p1"), now=expires_at) == ["pending_transfer_expired"]
    assert codes(book, void("v1", "p1"), now=expires_at) == ["pending_transfer_expired"]
    assert expire_pending(book, expires_at + 10 * NS).pendings == {}  # expiring is done once


def test_post_after_the_timeout_but_before_expire_pending_ran(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, timeout=1))
    later = NOW + 2 * NS
    assert codes(book, post("x1", "p1"), now=later) == ["pending_transfer_expired"]
    assert bal(book, "alice") == (0, 0, 100, 0)  # the funds are released by expire_pending, not by the refusal
    assert state(book, "p1") is PendingState.PENDING
    expire_pending(book, later)
    assert bal(book, "alice") == (0, 0, 0, 0)
    assert state(book, "p1") is PendingState.EXPIRED


def test_post_just_before_the_timeout(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, timeout=1))
    expires_at = book.pendings["p1"].expires_at
    assert expires_at is not None
    # The post's own timestamp is now + 1: posting at expires_at - 2 lands just before the deadline.
    assert codes(book, post("x1", "p1"), now=expires_at - 2) == ["created"]
    assert expire_pending(book, expires_at + NS).pendings == {}


def test_post_lands_exactly_on_the_deadline(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, timeout=1))
    expires_at = book.pendings["p1"].expires_at
    assert expires_at is not None
    assert codes(book, post("x1", "p1"), now=expires_at - 1) == ["pending_transfer_expired"]


def test_post_or_void_in_the_same_batch_as_the_pending(book: Book) -> None:
    assert (
        codes(book, P1, post("x1", "p1", 40), tr("p2", "bank", "alice", 7, PENDING), void("v2", "p2"))
        == ["created"] * 4
    )
    assert bal(book, "alice") == (0, 0, 0, 40)


def test_post_or_void_must_not_carry_a_timeout(book: Book) -> None:
    send(book, P1)
    assert codes(book, post("x1", "p1", timeout=5)) == ["timeout_reserved_for_pending_transfer"]
    assert codes(book, void("v1", "p1", timeout=5)) == ["timeout_reserved_for_pending_transfer"]


def test_post_or_void_is_not_balancing(book: Book) -> None:
    send(book, P1)
    assert codes(book, post("x1", "p1", 0, F.BALANCING_DEBIT)) == ["flags_are_mutually_exclusive"]
    assert codes(book, void("v1", "p1", 0, F.BALANCING_CREDIT)) == ["flags_are_mutually_exclusive"]
    assert codes(book, post("x2", "p1", 0, VOID)) == ["flags_are_mutually_exclusive"]


def test_post_refused_but_void_allowed_once_an_account_is_closed(book: Book) -> None:
    """The store may load an account closed since the pending transfer was made."""
    send(book, P1, tr("p2", "bank", "alice", 10, PENDING))
    alice = book.accounts["alice"]
    book.accounts["alice"] = replace(alice, flags=alice.flags | {A.CLOSED})
    assert codes(book, post("x1", "p1")) == ["credit_account_closed"]
    assert codes(book, void("v1", "p1")) == ["created"]
    bank = book.accounts["bank"]
    book.accounts["bank"] = replace(bank, flags=bank.flags | {A.CLOSED})
    assert codes(book, post("x2", "p2")) == ["debit_account_closed"]


# -- balancing transfers -----------------------------------------------------------------------------------------


def test_balancing_debit_takes_at_most_what_the_debit_account_has(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100), tr("h1", "alice", "bank", 30, PENDING))  # available: 100 - 30
    outcome = send(book, tr("b1", "alice", "vault", 1000, F.BALANCING_DEBIT))
    assert outcome.results == ["created"]
    assert outcome.transfers[0].amount == 70
    assert outcome.transfers[0].requested_amount == 1000
    assert bal(book, "alice") == (30, 70, 0, 100)
    assert codes(book, tr("b1", "alice", "vault", 1000, F.BALANCING_DEBIT)) == ["exists"]  # compared as sent


def test_balancing_debit_below_the_available_amount_is_unchanged(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100))
    outcome = send(book, tr("b1", "alice", "vault", 40, F.BALANCING_DEBIT))
    assert outcome.transfers[0].amount == 40


def test_balancing_credit_takes_at_most_what_the_credit_account_owes(book: Book) -> None:
    send(book, tr("f1", "loan", "bank", 100), tr("h1", "vault", "loan", 25, PENDING))  # room: 100 - 25
    outcome = send(book, tr("b1", "vault", "loan", 500, F.BALANCING_CREDIT))
    assert outcome.results == ["created"]
    assert outcome.transfers[0].amount == 75
    assert bal(book, "loan") == (0, 100, 25, 75)


def test_both_balancing_flags_take_the_smaller_amount(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 50), tr("f2", "loan", "bank", 20))
    outcome = send(book, tr("b1", "alice", "loan", 1000, F.BALANCING_DEBIT, F.BALANCING_CREDIT))
    assert outcome.transfers[0].amount == 20


def test_balancing_pending_transfer(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 50))
    outcome = send(book, tr("b1", "alice", "vault", 80, PENDING, F.BALANCING_DEBIT))
    assert outcome.transfers[0].amount == 50
    assert bal(book, "alice") == (50, 0, 0, 50)
    assert codes(book, post("x1", "b1")) == ["created"]
    assert bal(book, "alice") == (0, 50, 0, 50)


def test_balancing_with_nothing_available_records_a_zero_transfer(book: Book) -> None:
    """The engine's current choice (see the report: TigerBeetle answers exceeds_credits/exceeds_debits here)."""
    outcome = send(book, tr("b1", "alice", "vault", 10, F.BALANCING_DEBIT))
    assert outcome.results == ["created"]
    assert outcome.transfers[0].amount == 0
    assert bal(book, "alice") == (0, 0, 0, 0)


# -- balance limits ----------------------------------------------------------------------------------------------


def test_debits_must_not_exceed_credits(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100))
    assert codes(book, tr("d1", "alice", "bank", 101)) == ["exceeds_credits"]
    assert codes(book, tr("d2", "alice", "bank", 100)) == ["created"]  # exactly the credits is fine
    assert codes(book, tr("d3", "alice", "bank", 1)) == ["exceeds_credits"]
    assert bal(book, "alice") == (0, 100, 0, 100)


def test_pending_debits_count_against_the_credits(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100), tr("h1", "alice", "bank", 60, PENDING))
    assert codes(book, tr("d1", "alice", "bank", 41)) == ["exceeds_credits"]
    assert codes(book, tr("d2", "alice", "bank", 41, PENDING)) == ["exceeds_credits"]
    assert codes(book, tr("d3", "alice", "bank", 40)) == ["created"]
    assert codes(book, void("v1", "h1"), tr("d4", "alice", "bank", 60)) == ["created", "created"]


def test_pending_credits_are_not_spendable(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100, PENDING))
    assert codes(book, tr("d1", "alice", "bank", 1)) == ["exceeds_credits"]


def test_credits_must_not_exceed_debits(book: Book) -> None:
    send(book, tr("f1", "loan", "bank", 100))
    assert codes(book, tr("c1", "bank", "loan", 101)) == ["exceeds_debits"]
    assert codes(book, tr("c2", "bank", "loan", 60, PENDING)) == ["created"]
    assert codes(book, tr("c3", "bank", "loan", 41)) == ["exceeds_debits"]  # the pending 60 counts
    assert codes(book, tr("c4", "bank", "loan", 40)) == ["created"]
    assert bal(book, "loan") == (0, 100, 60, 40)


def test_the_limited_side_only(book: Book) -> None:
    """debits_must_not_exceed_credits does not stop credits, credits_must_not_exceed_debits does not stop debits."""
    assert codes(book, tr("c1", "bank", "alice", 10), tr("d1", "loan", "bank", 10)) == ["created", "created"]


# -- overflows ---------------------------------------------------------------------------------------------------


def test_amount_up_to_the_maximum(book: Book) -> None:
    assert codes(book, tr("t1", "bank", "vault", MAX)) == ["created"]
    assert bal(book, "vault") == (0, 0, 0, MAX)
    assert codes(book, tr("t2", "vault", "bank", MAX)) == ["created"]
    assert bal(book, "vault") == (0, MAX, 0, MAX)
    assert bal(book, "bank") == (0, MAX, 0, MAX)


def test_overflow_checks_leave_balances_at_the_limit(book: Book) -> None:
    send(book, tr("s1", "bank", "vault", MAX - 10, PENDING))
    assert codes(book, tr("t1", "bank", "mint", 11, PENDING)) == ["overflows_debits_pending"]
    assert codes(book, tr("t2", "bank", "mint", 10, PENDING)) == ["created"]
    assert codes(book, tr("t3", "bank", "mint", 1)) == ["overflows_debits"]
    assert bal(book, "bank") == (MAX, 0, 0, 0)
    # Posting part of it moves pending to posted without ever overflowing.
    assert codes(book, post("x1", "s1", 5), post("x2", "t2")) == ["created", "created"]
    assert bal(book, "bank") == (0, 15, 0, 0)


# -- linked chains -----------------------------------------------------------------------------------------------


def test_linked_chain_succeeds_as_a_whole(book: Book) -> None:
    outcome = send(
        book,
        tr("c1", "bank", "alice", 100, LINKED),
        tr("c2", "alice", "bob", 60, LINKED),
        tr("c3", "bob", "vault", 60),
    )
    assert outcome.results == ["created"] * 3
    assert [t.id for t in outcome.transfers] == ["c1", "c2", "c3"]
    assert bal(book, "alice") == (0, 60, 0, 100)
    assert bal(book, "bob") == (0, 60, 0, 60)


def test_linked_chain_failing_in_the_middle_leaves_no_trace(book: Book) -> None:
    send(book, tr("f1", "bank", "alice", 100), tr("p0", "bank", "bob", 10, PENDING))
    before = balances(book)
    pendings = dict(book.pendings)
    last = book.last_timestamp
    outcome = send(
        book,
        tr("solo", "bank", "vault", 1),  # not in the chain: unaffected
        tr("c1", "alice", "bob", 50, LINKED),  # changes a `history` account
        tr("c2", "bank", "alice", 5, PENDING, LINKED, timeout=30),  # a new pending
        post("c3", "p0", 10, LINKED),  # resolves an old pending
        tr("c4", "alice", "bank", 1000, LINKED),  # fails
        tr("c5", "bank", "alice", 1),
        tr("solo2", "bank", "vault", 2),
    )
    assert outcome.results == [
        "created",
        "linked_event_failed",
        "linked_event_failed",
        "linked_event_failed",
        "exceeds_credits",
        "linked_event_failed",
        "created",
    ]
    assert [t.id for t in outcome.transfers] == ["solo", "solo2"]
    assert set(outcome.accounts) == {"bank", "vault"}  # alice and bob were changed, then rolled back
    assert outcome.pendings == {}
    assert outcome.history == []
    after = balances(book)
    assert after["alice"] == before["alice"] and after["bob"] == before["bob"]
    assert after["bank"] == (10, before["bank"][1] + 3, 0, 0)
    assert book.pendings == pendings
    assert "c2" not in book.transfers and "c3" not in book.transfers
    assert book.last_timestamp > last
    # Every event of the failed chain is remembered as failed (the engine's choice, see the report).
    assert outcome.failed == {f"c{i}": r for i, r in zip(range(1, 6), outcome.results[1:6], strict=True)}
    assert codes(book, tr("c1", "alice", "bob", 50)) == ["id_already_failed"]


def test_linked_chain_failing_at_its_first_event(book: Book) -> None:
    outcome = send(book, tr("c1", "alice", "bank", 1, LINKED), tr("c2", "bank", "alice", 1))
    assert outcome.results == ["exceeds_credits", "linked_event_failed"]
    assert outcome.transfers == []


def test_two_chains_fail_and_succeed_independently(book: Book) -> None:
    outcome = send(
        book,
        tr("a1", "bank", "alice", 1, LINKED),
        tr("a2", "bank", "ghost", 1),
        tr("b1", "bank", "alice", 2, LINKED),
        tr("b2", "bank", "bob", 3),
    )
    assert outcome.results == ["linked_event_failed", "credit_account_not_found", "created", "created"]


def test_chain_still_open_at_the_end_of_the_batch(book: Book) -> None:
    outcome = send(
        book,
        tr("t0", "bank", "alice", 1),
        tr("c1", "bank", "alice", 1, LINKED),
        tr("c2", "bank", "alice", 1, LINKED),
    )
    assert outcome.results == ["created", "linked_event_chain_open", "linked_event_chain_open"]
    assert [t.id for t in outcome.transfers] == ["t0"]
    assert bal(book, "alice") == (0, 0, 0, 1)


def test_resending_a_successful_chain_answers_exists_for_each_event(book: Book) -> None:
    chain = (tr("c1", "bank", "alice", 100, LINKED), tr("c2", "alice", "bob", 60, LINKED), post("c3", "p1"))
    send(book, P1)
    assert codes(book, *chain) == ["created"] * 3
    before = balances(book)
    outcome = send(book, *chain)
    assert outcome.results == ["exists"] * 3
    assert outcome.transfers == [] and outcome.accounts == {} and outcome.failed == {}
    assert balances(book) == before


def test_chain_mixing_existing_and_new_events(book: Book) -> None:
    send(book, tr("c1", "bank", "alice", 100, LINKED), tr("c2", "bank", "bob", 5))
    assert codes(book, tr("c1", "bank", "alice", 100, LINKED), tr("c3", "bank", "bob", 5)) == ["exists", "created"]
    # An existing event in a chain that then fails answers linked_event_failed and stays as it was.
    assert codes(book, tr("c1", "bank", "alice", 100, LINKED), tr("c4", "bob", "alice", 50)) == [
        "linked_event_failed",
        "exceeds_credits",
    ]
    assert "c1" in book.transfers and "c1" not in book.failed


def test_linked_accounts(book: Book) -> None:
    outcome = create_accounts(
        book,
        [NewAccount("x1", "CNY", 1, frozenset({A.LINKED})), NewAccount("x2", "CNY", 0), NewAccount("x3", "SGD", 1)],
        NOW,
    )
    assert outcome.results == ["linked_event_failed", "code_must_be_positive", "created"]
    assert [a.id for a in outcome.new_accounts] == ["x3"]
    assert "x1" not in book.accounts
    outcome = create_accounts(
        book, [NewAccount("y1", "CNY", 1, frozenset({A.LINKED})), NewAccount("y2", "SGD", 1)], NOW
    )
    assert outcome.results == ["created", "created"]
    assert book.accounts["y1"].flags == frozenset()  # `linked` is about the event, not the account
    assert create_accounts(book, [NewAccount("y1", "CNY", 1)], NOW).results == ["exists"]


# -- idempotency -------------------------------------------------------------------------------------------------


BASE = tr("t1", "bank", "alice", 100, reference="inv-1", user_data=3)
DIFFERENT = {
    "flags": replace(BASE, flags=frozenset({PENDING})),
    "debit_account_id": replace(BASE, debit_account_id="vault"),
    "credit_account_id": replace(BASE, credit_account_id="bob"),
    "amount": replace(BASE, amount=101),
    "pending_id": replace(BASE, pending_id="p1"),
    "ledger": replace(BASE, ledger="SGD"),
    "code": replace(BASE, code=9),
    "timeout": replace(BASE, timeout=5),
    "reference": replace(BASE, reference=None),
    "user_data": replace(BASE, user_data=4),
}


@pytest.mark.parametrize("field", list(DIFFERENT))
def test_resending_an_id_with_one_different_field(book: Book, field: str) -> None:
    send(book, BASE)
    before = balances(book)
    outcome = send(book, DIFFERENT[field])
    assert outcome.results == [f"exists_with_different_{field}"]
    assert outcome.failed == {} and book.failed == {}  # the id exists: it is not a failure to remember
    assert balances(book) == before
    assert book.transfers["t1"] == replace(BASE, timestamp=book.transfers["t1"].timestamp, requested_amount=100)


def test_resending_the_same_event_changes_nothing(book: Book) -> None:
    first = send(book, BASE)
    before, last = balances(book), book.last_timestamp
    again = send(book, BASE, BASE)
    assert again.results == ["exists", "exists"]
    assert again.transfers == [] and again.accounts == {} and again.history == []
    assert balances(book) == before
    assert book.transfers["t1"] == first.transfers[0]
    assert book.last_timestamp == last  # nothing happened, no timestamp used


def test_same_id_twice_in_one_batch(book: Book) -> None:
    assert codes(book, BASE, BASE, replace(BASE, amount=1)) == ["created", "exists", "exists_with_different_amount"]
    assert bal(book, "alice") == (0, 0, 0, 100)


def test_a_failed_id_keeps_failing(book: Book) -> None:
    event = tr("t1", "alice", "bank", 100)
    first = send(book, event)
    assert first.results == ["exceeds_credits"]
    assert first.failed == {"t1": "exceeds_credits"}
    assert book.failed == {"t1": "exceeds_credits"}
    send(book, tr("f1", "bank", "alice", 500))  # now it would succeed
    before = balances(book)
    for retry in (event, replace(event, amount=1), tr("t1", "bank", "alice", 1)):
        outcome = send(book, retry)
        assert outcome.results == ["id_already_failed"]
        assert outcome.failed == {}  # already remembered: not reported again
    assert balances(book) == before
    assert book.failed == {"t1": "exceeds_credits"}


def test_a_failed_id_fails_again_later_in_the_same_batch(book: Book) -> None:
    outcome = send(book, tr("t1", "alice", "bank", 100), tr("f1", "bank", "alice", 500), tr("t1", "alice", "bank", 100))
    assert outcome.results == ["exceeds_credits", "created", "id_already_failed"]
    assert bal(book, "alice") == (0, 0, 0, 500)
    assert outcome.failed == {"t1": "exceeds_credits"}
    assert "t1" not in book.transfers


def test_an_id_that_failed_in_a_chain_fails_later_in_the_same_batch(book: Book) -> None:
    outcome = send(
        book, tr("c1", "bank", "alice", 1, LINKED), tr("c2", "alice", "ghost", 1), tr("c1", "bank", "alice", 1)
    )
    assert outcome.results == ["linked_event_failed", "credit_account_not_found", "id_already_failed"]
    assert outcome.transfers == []


def test_failed_ids_are_reported_once(book: Book) -> None:
    send(book, tr("t1", "alice", "bank", 1))
    outcome = send(book, tr("c0", "alice", "bank", 5, LINKED), tr("t1", "alice", "bank", 1))
    assert outcome.results == ["exceeds_credits", "linked_event_failed"]
    assert outcome.failed == {"c0": "exceeds_credits"}  # t1 had already failed: the store must not insert it again
    assert book.failed["t1"] == "exceeds_credits"
    outcome = send(book, tr("t1", "alice", "bank", 1, LINKED))
    assert outcome.results == ["linked_event_chain_open"] and outcome.failed == {}


def test_an_invalid_id_is_not_remembered(book: Book) -> None:
    for bad in ("", "x" * 65, "has space", "t1\n", "日本"):
        outcome = send(book, tr(bad))
        assert outcome.results == ["id_invalid"], bad
        assert outcome.failed == {}
    assert book.failed == {}
    assert codes(book, tr("x" * 64), tr("a.b_c:d-E9")) == ["created", "created"]


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "t1\n", "\nt1", "a\nb", "日本"])
def test_one_invalid_id_among_valid_ones_is_caught(book: Book, bad: str) -> None:
    # A batch's ids are checked together when all are valid (model.all_ids_valid); one bad id sends every event back
    # to its own check. "a\nb" would read as two valid ids joined: the count of newlines catches it.
    assert not all_ids_valid(["t1", bad, "t2"]) and all_ids_valid(["t1", "t2", "x" * 64])
    results = codes(book, tr("t1"), tr(bad), tr("t2"))
    assert results == ["created", "id_invalid", "created"]


def test_exists_is_answered_before_id_already_failed(book: Book) -> None:
    """An id can only be remembered as failed while it does not exist, so the two never meet; a book loaded with
    both (say, an id created elsewhere) answers from the transfer."""
    send(book, T1)
    book.failed["t1"] = "exceeds_credits"
    assert codes(book, T1) == ["exists"]


def test_a_failed_account_id_keeps_failing(book: Book) -> None:
    assert create_accounts(book, [NewAccount("z", "XXX", 1)], NOW).failed == {"z": "ledger_not_found"}
    outcome = create_accounts(book, [NewAccount("z", "CNY", 1)], NOW)
    assert outcome.results == ["id_already_failed"] and outcome.failed == {}
    assert "z" not in book.accounts


# -- timestamps --------------------------------------------------------------------------------------------------


def test_timestamps_strictly_increase_within_and_across_batches(book: Book) -> None:
    stamps = [a.timestamp for a in book.accounts.values()]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps) and stamps[0] > NOW
    first = send(book, tr("t1", amount=1), tr("t2", amount=1, timeout=1), tr("t3", amount=1))
    second = send(book, tr("t4", amount=1), now=NOW - 10 * NS)  # the clock going back must not matter
    third = send(book, tr("t5", amount=1), now=NOW + 5 * NS)
    got = [t.timestamp for o in (first, second, third) for t in o.transfers]
    assert len(got) == 4
    assert stamps[-1] < got[0] < got[1] < got[2] < got[3]
    assert got[3] == NOW + 5 * NS + 1
    assert book.last_timestamp == got[3]


def test_an_account_keeps_its_creation_timestamp(book: Book) -> None:
    created = {i: a.timestamp for i, a in book.accounts.items()}
    outcome = send(book, tr("t1", "bank", "alice", 5))
    assert outcome.transfers[0].timestamp > max(created.values())
    assert outcome.accounts["alice"].timestamp == created["alice"]
    assert outcome.accounts["bank"].timestamp == created["bank"]


def test_expiring_uses_timestamps_too(book: Book) -> None:
    send(book, tr("p1", "bank", "alice", 100, PENDING, timeout=1))
    last = book.last_timestamp
    outcome = expire_pending(book, NOW + 5 * NS)
    assert "alice" in outcome.accounts
    assert book.last_timestamp == NOW + 5 * NS + 1 > last
    expired_at = book.last_timestamp
    assert send(book, tr("t1", amount=1), now=NOW + 5 * NS).transfers[0].timestamp == expired_at + 1


# -- what an Outcome reports -------------------------------------------------------------------------------------


def test_outcome_of_a_mixed_batch(book: Book) -> None:
    send(book, tr("p0", "bank", "bob", 10, PENDING))
    originals = {i: book.accounts[i] for i in ("bank", "alice", "bob", "loan")}
    outcome = send(
        book,
        tr("t1", "bank", "alice", 100),
        tr("t2", "alice", "bob", 30),
        tr("t3", "alice", "ghost", 1),
        tr("p1", "bank", "loan", 1, PENDING),  # loan has no debits: exceeds_debits
        post("x0", "p0", 4),
        tr("p2", "bank", "vault", 9, PENDING, timeout=10),
    )
    assert outcome.results == ["created", "created", "credit_account_not_found", "exceeds_debits", "created", "created"]
    assert [t.id for t in outcome.transfers] == ["t1", "t2", "x0", "p2"]
    assert set(outcome.accounts) == {"bank", "alice", "bob", "vault"}
    assert all(outcome.accounts[i] is book.accounts[i] for i in outcome.accounts)
    assert set(outcome.pendings) == {"p0", "p2"}
    assert outcome.pendings["p0"].state is PendingState.POSTED and outcome.pendings["p0"].posted_amount == 4
    assert outcome.pendings["p2"] == Pending("p2", PendingState.PENDING, outcome.transfers[3].timestamp + 10 * NS)
    assert outcome.failed == {"t3": "credit_account_not_found", "p1": "exceeds_debits"}
    assert outcome.new_accounts == []
    # Only `alice` keeps history: one snapshot per change, each with the balances right after it.
    assert [(a.id, a.credits_posted, a.debits_posted, a.timestamp) for a in outcome.history] == [
        ("alice", 100, 0, outcome.transfers[0].timestamp),
        ("alice", 100, 30, outcome.transfers[1].timestamp),
    ]
    assert outcome.history[-1] is not book.accounts["alice"]  # a snapshot, not the live account
    # Lone events change the book's accounts in place (a linked chain works on copies it can throw away).
    assert all(originals[i] is book.accounts[i] for i in ("bank", "alice", "bob", "loan"))
    assert (book.accounts["alice"].credits_posted, book.accounts["alice"].debits_posted) == (100, 30)
    assert "loan" not in outcome.accounts  # untouched


def test_outcome_history_for_both_sides(book: Book) -> None:
    send(book, tr("f1", "loan", "bank", 50))
    outcome = send(book, tr("t1", "bank", "alice", 20), tr("t2", "alice", "loan", 20), tr("t3", "bank", "vault", 1))
    assert outcome.results == ["created", "created", "created"]
    assert [(a.id, bal(book, a.id) == bal_of(a)) for a in outcome.history] == [
        ("alice", False),
        ("alice", True),
        ("loan", True),
    ]


def test_outcome_of_create_accounts(book: Book) -> None:
    outcome = create_accounts(
        book,
        [NewAccount("n1", "CNY", 1, owner_id="org-1"), NewAccount("n2", "XXX", 1), NewAccount("bank", "CNY", 1)],
        NOW,
        {"org-1"},
    )
    assert outcome.results == ["created", "ledger_not_found", "exists"]
    assert [a.id for a in outcome.new_accounts] == ["n1"]
    assert outcome.new_accounts[0] == Account("n1", "CNY", 1, frozenset(), "org-1", timestamp=book.last_timestamp)
    assert outcome.accounts == {} and outcome.transfers == [] and outcome.history == []
    assert outcome.failed == {"n2": "ledger_not_found"}


def test_empty_batches(book: Book) -> None:
    last = book.last_timestamp
    assert send(book) == Outcome(results=[])
    assert create_accounts(book, [], NOW) == Outcome(results=[])
    assert expire_pending(book, NOW) == Outcome(results=[])
    assert book.last_timestamp == last


def test_an_account_copy_carries_every_field_and_is_its_own_object() -> None:
    # Account.copy names the fields one by one (dataclasses.replace cost six times as much): a field added to
    # Account and forgotten there would come back with its default, which the distinct values here catch.
    values: dict[str, object] = {
        f.name: f"v{n}" if f.type == "str" else n + 7 for n, f in enumerate(dataclasses.fields(Account))
    }
    values["flags"] = frozenset({AccountFlag.HISTORY})
    values["owner_id"] = "owner"
    account = Account(**values)  # type: ignore[arg-type]
    copy = account.copy()
    assert copy == account and copy is not account
    assert dataclasses.asdict(copy) == values
    copy.debits_posted += 1
    assert account.debits_posted == values["debits_posted"]
