"""pacs.008.001.08 in: a FIToFICustomerCreditTransfer mapped to the rails' `CreditTransfer`s.

The message passes ``iso20022``'s gate first (size, UTF-8, no DOCTYPE, a parser that resolves nothing, the shipped
XSD); a refusal of the gate or of the mapping is a `MessageRejected` with the ISO 20022 reason its pacs.002 answers.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fintech_zone.payments.iso20022 import (
    FORMAT_ERROR,
    INVALID_CONTROL_SUM,
    INVALID_DATE,
    INVALID_NUMBER_OF_TRANSACTIONS,
    NAMESPACES,
    PACS008,
    UETR_PATTERN,
    ZERO_AMOUNT,
    CreditTransfer,
    MessageRejected,
    Pacs008,
    parse_xml,
    to_minor_units,
    validate,
)

_TIMEZONE_SUFFIX = re.compile(r"(Z|[+-]\d\d:\d\d)\Z")

_N8 = "{" + NAMESPACES[PACS008] + "}"
_BICFI = _N8 + "BICFI"
_IBAN = _N8 + "IBAN"
_NM = _N8 + "Nm"

# Mapping runs on a message the XSD has just accepted, with comments and PIs dropped at parse time: every element
# is where the schema puts it, so children are read by tag from one pass over an element (`_kids`) or, where the
# schema fixes the position (a required first child, a choice of one), by index. ElementPath's find() per field
# cost more than parsing and validating together.


def _kids(element: Any) -> dict[str, Any]:
    """The children of `element` by tag (an empty dict for None); for repeatable children, the last one."""
    return {} if element is None else {child.tag: child for child in element}


def _child(element: Any, name: str) -> Any:
    """The first child `name` (pacs.008 namespace) of `element`, or None if either is missing."""
    if element is not None:
        for child in element.iterchildren(_N8 + name):
            return child
    return None


def _text(element: Any, *names: str) -> str | None:
    """The text at the child path `names` below `element` (None if any step is missing)."""
    for name in names:
        element = _child(element, name)
    text: str | None = None if element is None else element.text
    return text


def _bic(agent: Any) -> str | None:
    """BICFI of a BranchAndFinancialInstitutionIdentification6: FinInstnId comes first, BICFI first in it."""
    if agent is None:
        return None
    institution = agent[0]
    bic: str | None = institution[0].text if len(institution) and institution[0].tag == _BICFI else None
    return bic


def _account(account: Any) -> str | None:
    """IBAN or Othr/Id of a CashAccount38: Id comes first, a choice of IBAN or Othr, whose Id comes first."""
    if account is None:
        return None
    choice = account[0][0]
    number: str = choice.text if choice.tag == _IBAN else choice[0].text
    return number


def _name(party: Any) -> str | None:
    """Nm of a PartyIdentification135, its optional first child."""
    name: str | None = party[0].text if len(party) and party[0].tag == _NM else None
    return name


def parse_pacs008(body: bytes) -> Pacs008:
    """Parse, validate against the shipped pacs.008.001.08 XSD and map; MessageRejected on any refusal."""
    root = parse_xml(body)
    try:
        validate(PACS008, root)
    except MessageRejected as exc:
        exc.msg_id, exc.end_to_end_id, exc.uetr = _recover_ids(root)
        raise
    transfer = root[0]  # FIToFICstmrCdtTrf, the only child of Document
    header = _kids(transfer[0])  # GrpHdr comes first
    msg_id: str = header[_N8 + "MsgId"].text
    created = _datetime(header[_N8 + "CreDtTm"].text, msg_id)
    date_element = header.get(_N8 + "IntrBkSttlmDt")
    group_date: str | None = None if date_element is None else date_element.text
    group_instg, group_instd = _bic(header.get(_N8 + "InstgAgt")), _bic(header.get(_N8 + "InstdAgt"))
    elements = transfer.iterchildren(_N8 + "CdtTrfTxInf")
    transactions = tuple(_transfer(e, msg_id, created, group_date, group_instg, group_instd) for e in elements)
    first = transactions[0]

    def reject(reason: str, detail: str) -> MessageRejected:
        return MessageRejected(
            reason, detail, msg_id=msg_id, created=created, end_to_end_id=first.end_to_end_id, uetr=first.uetr
        )

    count: str = header[_N8 + "NbOfTxs"].text
    if int(count) != len(transactions):
        raise reject(
            INVALID_NUMBER_OF_TRANSACTIONS, f"NbOfTxs is {count} but the message has {len(transactions)} CdtTrfTxInf"
        )
    control_sum = header.get(_N8 + "CtrlSum")
    if control_sum is not None and Decimal(control_sum.text) != sum(t.amount for t in transactions):
        raise reject(INVALID_CONTROL_SUM, f"CtrlSum {control_sum.text} is not the sum of the settlement amounts")
    method: str = header[_N8 + "SttlmInf"][0].text  # SttlmMtd comes first
    return Pacs008(msg_id, created, method, group_instg, group_instd, transactions)


def _transfer(
    tx: Any, msg_id: str, created: datetime, group_date: str | None, group_instg: str | None, group_instd: str | None
) -> CreditTransfer:
    kids = _kids(tx)
    payment_id = _kids(kids[_N8 + "PmtId"])
    end_to_end_id: str = payment_id[_N8 + "EndToEndId"].text
    uetr_element = payment_id.get(_N8 + "UETR")
    uetr: str | None = None if uetr_element is None else uetr_element.text

    def reject(reason: str, detail: str) -> MessageRejected:
        return MessageRejected(
            reason, f"transaction {end_to_end_id}: {detail}",
            msg_id=msg_id, created=created, end_to_end_id=end_to_end_id, uetr=uetr,
        )  # fmt: skip

    if uetr is None:  # CBPR+ makes it mandatory, and the rails key payments on it
        raise reject(FORMAT_ERROR, "PmtId/UETR is missing (mandatory in CBPR+)")
    amount_element = kids[_N8 + "IntrBkSttlmAmt"]
    amount = Decimal(amount_element.text.strip())
    currency: str = amount_element.get("Ccy")
    if amount == 0:
        raise reject(ZERO_AMOUNT, "IntrBkSttlmAmt is zero")
    try:
        amount_minor = to_minor_units(amount, currency)
    except MessageRejected as exc:
        raise reject(exc.reason, exc.detail) from None
    settlement = kids.get(_N8 + "IntrBkSttlmDt")
    date_text = group_date if settlement is None else settlement.text
    try:
        settlement_date = None if date_text is None else date.fromisoformat(_TIMEZONE_SUFFIX.sub("", date_text.strip()))
    except ValueError:
        raise reject(INVALID_DATE, f"IntrBkSttlmDt {date_text!r} is not a date") from None
    instructed = kids.get(_N8 + "InstdAmt")
    rate = kids.get(_N8 + "XchgRate")
    purpose = kids.get(_N8 + "Purp")
    remittance = kids.get(_N8 + "RmtInf")
    ustrd = [] if remittance is None else [line.text for line in remittance.iterchildren(_N8 + "Ustrd")]
    instr_id, tx_id = payment_id.get(_N8 + "InstrId"), payment_id.get(_N8 + "TxId")
    return CreditTransfer(
        msg_id=msg_id,
        created=created,
        instr_id=None if instr_id is None else instr_id.text,
        end_to_end_id=end_to_end_id,
        tx_id=None if tx_id is None else tx_id.text,
        uetr=uetr,
        amount=amount,
        currency=currency,
        amount_minor=amount_minor,
        settlement_date=settlement_date,
        instructed_amount=None if instructed is None else Decimal(instructed.text.strip()),
        instructed_currency=None if instructed is None else instructed.get("Ccy"),
        exchange_rate=None if rate is None else Decimal(rate.text.strip()),
        charge_bearer=kids[_N8 + "ChrgBr"].text,
        debtor_name=_name(kids[_N8 + "Dbtr"]),
        debtor_account=_account(kids.get(_N8 + "DbtrAcct")),
        debtor_agent=_bic(kids[_N8 + "DbtrAgt"]),
        creditor_name=_name(kids[_N8 + "Cdtr"]),
        creditor_account=_account(kids.get(_N8 + "CdtrAcct")),
        creditor_agent=_bic(kids[_N8 + "CdtrAgt"]),
        instructing_agent=_bic(kids.get(_N8 + "InstgAgt")) or group_instg,
        instructed_agent=_bic(kids.get(_N8 + "InstdAgt")) or group_instd,
        purpose=None if purpose is None else purpose[0].text,  # Cd or Prtry, a choice of one
        remittance=" ".join(ustrd) if ustrd else None,
    )


def _datetime(text: str, msg_id: str) -> datetime:
    """An ISODateTime; CBPR+ requires an offset, a time without one is read as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MessageRejected(INVALID_DATE, f"CreDtTm {text!r} is not a date and time", msg_id=msg_id) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _recover_ids(root: Any) -> tuple[str | None, str | None, str | None]:
    """MsgId, first EndToEndId and UETR of a schema-invalid pacs.008, each only if it is usable in a pacs.002."""
    transfer = _child(root, "FIToFICstmrCdtTrf") if root.tag == _N8 + "Document" else None
    msg_id = _text(transfer, "GrpHdr", "MsgId")
    e2e = _text(transfer, "CdtTrfTxInf", "PmtId", "EndToEndId")
    uetr = _text(transfer, "CdtTrfTxInf", "PmtId", "UETR")
    return (
        msg_id if msg_id and len(msg_id) <= 35 else None,
        e2e if e2e and len(e2e) <= 35 else None,
        uetr if uetr and UETR_PATTERN.match(uetr) else None,
    )
