"""camt.053.001.08 bank-to-customer statements of ledger accounts, valid against the shipped XSD."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from fintech_zone.payments.iso20022 import CAMT053, NAMESPACES, CreditDebit, from_minor_units, iso_datetime


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """A booked entry; `amount_minor` is positive, the direction is `credit_debit`."""

    amount_minor: int
    credit_debit: CreditDebit
    booked: datetime
    account_servicer_ref: str  # our reference for the entry (the transfer id)
    end_to_end_id: str | None = None
    uetr: str | None = None
    counterparty_name: str | None = None  # the debtor of a credit, the creditor of a debit
    remittance: str | None = None
    cross_border: bool = True  # bank transaction code PMNT/RCDT|ICDT/XBCT, else …/DMCT


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's booked movements over [from_time, to_time]; balances and amounts in minor units.

    Minor units keep the statement in the ledger's own integers; the currency's exponent turns them into the
    decimal amounts the message carries. The closing balance must equal the opening one plus the entries.
    """

    statement_id: str  # also the message id: one statement per message
    account_id: str  # Acct/Id/Othr/Id
    currency: str
    owner_name: str
    servicer_bic: str
    from_time: datetime
    to_time: datetime
    created: datetime
    opening_minor: int
    closing_minor: int
    entries: tuple[StatementEntry, ...] = ()


def camt053(statement: Statement) -> bytes:
    """A camt.053.001.08 BkToCstmrStmt: the statement with its opening (OPBD) and closing (CLBD) booked balances."""
    s = statement
    net = sum(e.amount_minor if e.credit_debit == CreditDebit.CRDT else -e.amount_minor for e in s.entries)
    if s.opening_minor + net != s.closing_minor:
        raise ValueError(f"statement {s.statement_id} does not balance: {s.opening_minor} + {net} ≠ {s.closing_minor}")
    if any(e.amount_minor <= 0 for e in s.entries):
        raise ValueError("entry amounts are positive; the direction is credit_debit")
    ns = "{" + NAMESPACES[CAMT053] + "}"
    document = etree.Element(ns + "Document", nsmap={None: NAMESPACES[CAMT053]})
    message = _sub(document, ns + "BkToCstmrStmt")
    header = _sub(message, ns + "GrpHdr")
    _sub(header, ns + "MsgId", s.statement_id)
    _sub(header, ns + "CreDtTm", iso_datetime(s.created))
    stmt = _sub(message, ns + "Stmt")
    _sub(stmt, ns + "Id", s.statement_id)
    _sub(stmt, ns + "CreDtTm", iso_datetime(s.created))
    period = _sub(stmt, ns + "FrToDt")
    _sub(period, ns + "FrDtTm", iso_datetime(s.from_time))
    _sub(period, ns + "ToDtTm", iso_datetime(s.to_time))
    account = _sub(stmt, ns + "Acct")
    _sub(_sub(_sub(account, ns + "Id"), ns + "Othr"), ns + "Id", s.account_id)
    _sub(account, ns + "Ccy", s.currency)
    _sub(_sub(account, ns + "Ownr"), ns + "Nm", s.owner_name)
    _sub(_sub(_sub(account, ns + "Svcr"), ns + "FinInstnId"), ns + "BICFI", s.servicer_bic)
    for code, minor, at in (("OPBD", s.opening_minor, s.from_time), ("CLBD", s.closing_minor, s.to_time)):
        balance = _sub(stmt, ns + "Bal")
        _sub(_sub(_sub(balance, ns + "Tp"), ns + "CdOrPrtry"), ns + "Cd", code)
        _amount(balance, ns + "Amt", abs(minor), s.currency)
        _sub(balance, ns + "CdtDbtInd", CreditDebit.CRDT if minor >= 0 else CreditDebit.DBIT)
        _sub(_sub(balance, ns + "Dt"), ns + "DtTm", iso_datetime(at))
    for e in s.entries:
        _entry(stmt, ns, e, s.currency)
    result: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    return result


def _entry(stmt: Any, ns: str, e: StatementEntry, currency: str) -> None:
    entry = _sub(stmt, ns + "Ntry")
    _amount(entry, ns + "Amt", e.amount_minor, currency)
    _sub(entry, ns + "CdtDbtInd", e.credit_debit)
    _sub(_sub(entry, ns + "Sts"), ns + "Cd", "BOOK")
    _sub(_sub(entry, ns + "BookgDt"), ns + "DtTm", iso_datetime(e.booked))
    _sub(entry, ns + "AcctSvcrRef", e.account_servicer_ref)
    # ISO bank transaction code: Payments / Received (or Issued) Credit Transfers / Cross-border (or Domestic).
    domain = _sub(_sub(entry, ns + "BkTxCd"), ns + "Domn")
    _sub(domain, ns + "Cd", "PMNT")
    family = _sub(domain, ns + "Fmly")
    _sub(family, ns + "Cd", "RCDT" if e.credit_debit == CreditDebit.CRDT else "ICDT")
    _sub(family, ns + "SubFmlyCd", "XBCT" if e.cross_border else "DMCT")
    details = _sub(_sub(entry, ns + "NtryDtls"), ns + "TxDtls")
    refs = _sub(details, ns + "Refs")
    _sub(refs, ns + "AcctSvcrRef", e.account_servicer_ref)
    if e.end_to_end_id is not None:
        _sub(refs, ns + "EndToEndId", e.end_to_end_id)
    if e.uetr is not None:
        _sub(refs, ns + "UETR", e.uetr)
    _amount(details, ns + "Amt", e.amount_minor, currency)
    _sub(details, ns + "CdtDbtInd", e.credit_debit)
    if e.counterparty_name is not None:
        role = "Dbtr" if e.credit_debit == CreditDebit.CRDT else "Cdtr"
        _sub(_sub(_sub(_sub(details, ns + "RltdPties"), ns + role), ns + "Pty"), ns + "Nm", e.counterparty_name)
    if e.remittance:
        info = _sub(details, ns + "RmtInf")
        for i in range(0, len(e.remittance), 140):  # Ustrd is Max140Text, repeatable
            _sub(info, ns + "Ustrd", e.remittance[i : i + 140])


def _amount(parent: Any, tag: str, minor: int, currency: str) -> None:
    _sub(parent, tag, str(from_minor_units(minor, currency))).set("Ccy", currency)


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element
