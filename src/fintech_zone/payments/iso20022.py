"""ISO 20022 messages of the pilot rails: pacs.008.001.08 in, pacs.002.001.10 out, camt.053.001.08 statements. Pure.

Only lxml, the standard library and babel. Every inbound message passes one gate, cheapest check first, so that
hostile input costs little and reaches nothing: size limit → UTF-8 without NUL bytes → no DOCTYPE (which is how
entity expansion, external entities and external DTDs get in) → a parser that loads no DTD, resolves no entity and
has no network → the official XSD shipped in ``xsd/`` → mapping. Any refusal is a `MessageRejected` carrying the
ISO 20022 ExternalStatusReason1Code the pacs.002 answers with:

* ``FF01`` InvalidFileFormat: not UTF-8, not well-formed, a DOCTYPE, too large, schema-invalid, no UETR.
* ``AM12`` InvalidAmount: more decimals than the currency has (babel's CLDR currency precision).
* ``AM11`` InvalidTransactionCurrency: a code that is no ISO 4217 currency.
* ``AM01`` ZeroAmount, ``DT01`` InvalidDate, ``AM18`` InvalidNumberOfTransactions (NbOfTxs is not the count),
  ``AM10`` InvalidControlSum (CtrlSum is not the sum of the settlement amounts).

CBPR+ sends one transaction per pacs.008; the base schema allows several and so does `pacs008.parse_pacs008`: each is
mapped, and `pacs002` answers each in its own TxInfAndSts. One transaction that cannot be mapped rejects the whole
message, and the error names it. Several threads may use this module at once: lxml's parsers and schema validators
keep per-object state (the error log), so each thread gets its own, built on first use.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, Final

from babel.numbers import get_currency_precision, is_currency
from lxml import etree

PACS008: Final = "pacs.008.001.08"
PACS002: Final = "pacs.002.001.10"
CAMT053: Final = "camt.053.001.08"
NAMESPACES: Final = {kind: f"urn:iso:std:iso:20022:tech:xsd:{kind}" for kind in (PACS008, PACS002, CAMT053)}
MAX_MESSAGE_BYTES: Final = 1 << 20  # a CBPR+ pacs.008 is a few KiB; 1 MiB leaves room and bounds the work
NOT_PROVIDED: Final = "NOTPROVIDED"  # what CBPR+ puts where an original id is unknown

FORMAT_ERROR: Final = "FF01"
INVALID_AMOUNT: Final = "AM12"
INVALID_CURRENCY: Final = "AM11"
ZERO_AMOUNT: Final = "AM01"
INVALID_DATE: Final = "DT01"
INVALID_NUMBER_OF_TRANSACTIONS: Final = "AM18"
INVALID_CONTROL_SUM: Final = "AM10"

UETR_PATTERN: Final = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}\Z")


class PaymentStatus(StrEnum):
    """ExternalPaymentTransactionStatus1Code / ExternalPaymentGroupStatus1Code values the rails report."""

    ACTC = "ACTC"  # AcceptedTechnicalValidation: syntax and semantics fine
    ACCP = "ACCP"  # AcceptedCustomerProfile: also the customer profile checks passed
    ACSP = "ACSP"  # AcceptedSettlementInProcess
    ACSC = "ACSC"  # AcceptedSettlementCompleted: settled on the debtor side
    PDNG = "PDNG"  # Pending: further checks (e.g. screening review) before it is settled or rejected
    RJCT = "RJCT"  # Rejected
    PART = "PART"  # PartiallyAccepted: group status only, some transactions rejected and some not


class CreditDebit(StrEnum):
    CRDT = "CRDT"
    DBIT = "DBIT"


class MessageRejected(Exception):
    """A message the rails refuse: `reason` is the ISO 20022 status reason code, `detail` says what and where.

    The original ids are whatever could be read from the message (None when it could not be parsed that far), so
    that `rejection` can still answer with a pacs.002 that refers to it.
    """

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        msg_id: str | None = None,
        created: datetime | None = None,
        end_to_end_id: str | None = None,
        uetr: str | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.msg_id = msg_id
        self.created = created
        self.end_to_end_id = end_to_end_id
        self.uetr = uetr


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """One CdtTrfTxInf of a pacs.008, with its message's id and time; agents are BICs, accounts IBAN or Othr/Id."""

    msg_id: str
    created: datetime
    instr_id: str | None
    end_to_end_id: str
    tx_id: str | None
    uetr: str
    amount: Decimal  # IntrBkSttlmAmt: what the instructed agent is to settle
    currency: str
    amount_minor: int  # the same in minor units of the currency (fen, cents)
    settlement_date: date | None  # the transaction's IntrBkSttlmDt, else the group header's
    instructed_amount: Decimal | None  # InstdAmt: what the debtor ordered, before FX and charges
    instructed_currency: str | None
    exchange_rate: Decimal | None  # XchgRate: instructed currency → settlement currency
    charge_bearer: str  # DEBT, CRED, SHAR or SLEV
    debtor_name: str | None
    debtor_account: str | None
    debtor_agent: str | None
    creditor_name: str | None
    creditor_account: str | None
    creditor_agent: str | None
    instructing_agent: str | None  # the transaction's InstgAgt, else the group header's
    instructed_agent: str | None
    purpose: str | None  # Purp/Cd or Purp/Prtry
    remittance: str | None  # the RmtInf/Ustrd lines joined by spaces


@dataclass(frozen=True, slots=True)
class Pacs008:
    msg_id: str
    created: datetime
    settlement_method: str  # INDA, INGA, COVE or CLRG
    instructing_agent: str | None
    instructed_agent: str | None
    transactions: tuple[CreditTransfer, ...]


# ---------------------------------------------------------------------------------------------------- safe parsing


_local = threading.local()


def _parser() -> Any:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,  # an entity reference stays a reference: no expansion, no external fetch
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,  # keep libxml2's limits on depth and text size
            remove_comments=True,  # so an element's .text is its whole value, as the XSD saw it
            remove_pis=True,
            collect_ids=False,
        )
    return parser


@cache
def _xsd_document(kind: str) -> bytes:
    return (files(__package__) / "xsd" / f"{kind}.xsd").read_bytes()


def _schema(kind: str) -> Any:
    """The compiled official XSD of `kind`, one per thread (a validator's error log is its own state)."""
    schemas: dict[str, Any] = _local.__dict__.setdefault("schemas", {})
    schema = schemas.get(kind)
    if schema is None:
        # Parsed with our parser, so schema loading has no network either; the XSDs import nothing.
        schema = schemas[kind] = etree.XMLSchema(etree.fromstring(_xsd_document(kind), _parser()))
    return schema


def parse_xml(body: bytes) -> Any:
    """The root element of `body`, or MessageRejected(FF01) for anything but a plain UTF-8 XML document."""
    if not body:
        raise MessageRejected(FORMAT_ERROR, "empty message")
    if len(body) > MAX_MESSAGE_BYTES:
        raise MessageRejected(FORMAT_ERROR, f"message of {len(body)} bytes exceeds the {MAX_MESSAGE_BYTES} byte limit")
    if b"\x00" in body:  # UTF-16/32 (which would hide the checks below from a byte scan) always has NUL bytes
        raise MessageRejected(FORMAT_ERROR, "NUL byte: messages must be UTF-8")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageRejected(FORMAT_ERROR, f"not UTF-8 (invalid byte at offset {exc.start})") from None
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MessageRejected(FORMAT_ERROR, "DOCTYPE or entity declaration refused (ISO 20022 messages have none)")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise MessageRejected(FORMAT_ERROR, f"not well-formed XML: line {exc.lineno}: {exc.msg}") from None
    info = root.getroottree().docinfo
    if info.doctype:  # unreachable past the byte scan; kept so the parse alone is never trusted with one
        raise MessageRejected(FORMAT_ERROR, "DOCTYPE refused (ISO 20022 messages have none)")
    if (info.encoding or "UTF-8").upper() not in ("UTF-8", "UTF8"):
        raise MessageRejected(FORMAT_ERROR, f"declared encoding {info.encoding} refused: messages must be UTF-8")
    return root


def validate(kind: str, document: Any) -> None:
    """Check `document` (bytes or a parsed element) against the official XSD of `kind`; MessageRejected(FF01) if not."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    schema = _schema(kind)
    if not schema.validate(root):
        raise MessageRejected(FORMAT_ERROR, _schema_error(schema.error_log, root))


def _schema_error(log: Any, root: Any) -> str:
    """The first XSD error as 'path (line n): message', with namespaces dropped so the path reads as in the spec."""
    entry = log[0]
    try:
        found = root.getroottree().xpath(entry.path) if entry.path else []
    except etree.XPathError:
        found = []
    path = _element_path(found[0]) if found else entry.path or "/"
    message = re.sub(r"\{[^}]*\}", "", entry.message)
    if len(message) > 300:  # the message quotes the offending value, which the sender controls
        message = message[:299] + "…"
    more = f" (and {len(log) - 1} more)" if len(log) > 1 else ""
    return f"{path} (line {entry.line}): {message}{more}"


def _element_path(element: Any) -> str:
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None and len(same := parent.findall(element.tag)) > 1:
            name += f"[{same.index(element) + 1}]"
        steps.append(name)
        element = parent
    return "/" + "/".join(reversed(steps))


# ------------------------------------------------------------------------------------------------------- amounts


@lru_cache(maxsize=512)  # babel's is_currency costs microseconds; a few currencies recur
def currency_exponent(currency: str) -> int:
    """Decimal places of `currency` (CLDR via babel: CNY 2, JPY 0, BHD 3); MessageRejected(AM11) if unknown."""
    if not is_currency(currency):
        raise MessageRejected(INVALID_CURRENCY, f"{currency!r} is not an ISO 4217 currency code")
    exponent: int = get_currency_precision(currency)
    return exponent


def to_minor_units(amount: Decimal, currency: str) -> int:
    """`amount` in minor units of `currency`; MessageRejected(AM12) if it has more decimals than the currency.

    Trailing zeros are fine (10.500 SGD is 1050 cents); 10.505 SGD is refused, never rounded.
    """
    try:
        scaled = amount.scaleb(currency_exponent(currency))
        if not scaled.is_finite() or scaled != scaled.to_integral_value():
            raise InvalidOperation
    except InvalidOperation:
        raise MessageRejected(
            INVALID_AMOUNT, f"{amount} {currency}: {currency} has {currency_exponent(currency)} decimal places"
        ) from None
    return int(scaled)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """The decimal amount of `minor` minor units, with exactly the currency's decimal places (1050 SGD → 10.50)."""
    exponent = currency_exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def iso_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("ISO 20022 times here carry an offset: pass an aware datetime")
    return value.isoformat(timespec="seconds")
