"""pacs.002.001.10 FI-to-FI payment status reports: the rails' answer to a pacs.008, transaction by transaction.

Built as escaped text rather than an element tree: it is on the hot path of every message (benchmarks/iso20022.py),
and the tests validate what it builds against the shipped XSD, markup and control characters included.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from fintech_zone.payments.iso20022 import (
    NAMESPACES,
    NOT_PROVIDED,
    PACS002,
    PACS008,
    UETR_PATTERN,
    CreditTransfer,
    MessageRejected,
    PaymentStatus,
    iso_datetime,
)

ADDITIONAL_INFO_CHARS: Final = 105  # StatusReasonInformation12/AddtlInf is Max105Text …
ADDITIONAL_INFO_LINES: Final = 10  # … repeatable; we send at most ten, so an error cannot echo megabytes back
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class TransactionStatus:
    """The status of one original transaction, as a TxInfAndSts of the pacs.002."""

    status: PaymentStatus
    end_to_end_id: str = NOT_PROVIDED
    uetr: str | None = None
    instr_id: str | None = None
    tx_id: str | None = None
    reason: str | None = None  # ExternalStatusReason1Code, for RJCT (and PDNG when there is one)
    detail: str = ""  # free text, sent as AddtlInf lines of at most 105 characters
    instructing_agent: str | None = None  # of the pacs.002: the original instructed agent
    instructed_agent: str | None = None

    def __post_init__(self) -> None:
        # What the pacs.002.001.10 XSD would refuse, refused here where the mistake is made.
        if not 1 <= len(self.end_to_end_id) <= 35:
            raise ValueError("end_to_end_id must be 1 to 35 characters")
        if self.reason is not None and not 1 <= len(self.reason) <= 4:
            raise ValueError("reason is an ExternalStatusReason1Code of 1 to 4 characters")
        if self.uetr is not None and not UETR_PATTERN.match(self.uetr):
            raise ValueError("uetr must be a lowercase UUIDv4")

    @classmethod
    def of(
        cls, tx: CreditTransfer, status: PaymentStatus, reason: str | None = None, detail: str = ""
    ) -> TransactionStatus:
        """The status of `tx`; the report goes back the way the payment came, so the agents swap."""
        return cls(
            status, tx.end_to_end_id, tx.uetr, tx.instr_id, tx.tx_id, reason, detail,
            tx.instructed_agent, tx.instructing_agent,
        )  # fmt: skip


def new_message_id() -> str:
    """A fresh MsgId for an outbound message: 'FZ' and 32 hex digits (Max35Text)."""
    return "FZ" + uuid.uuid4().hex


def pacs002(
    *,
    msg_id: str,
    created: datetime,
    original_msg_id: str,
    original_created: datetime | None,
    transactions: Sequence[TransactionStatus],
    original_msg_name: str = PACS008,
) -> bytes:
    """A pacs.002.001.10 FIToFIPmtStsRpt answering one original message, one TxInfAndSts per transaction.

    The group status is the transactions' status when they agree, PART when only some are rejected, and otherwise
    the least advanced of theirs. A group rejection repeats the reason of the first rejected transaction.
    """
    if not transactions:
        raise ValueError("a pacs.002 reports at least one transaction")
    for name, value in (("msg_id", msg_id), ("original_msg_id", original_msg_id)):
        if not 1 <= len(value) <= 35:
            raise ValueError(f"{name} must be 1 to 35 characters")
    # Written as text rather than through lxml's element API: a third of the time per message went into building
    # ~25 elements one by one. Every value passes `_escape`; the tests validate the output against the XSD.
    group_status = _group_status([t.status for t in transactions])
    out = [
        _PACS002_HEAD,
        "<GrpHdr>", _element("MsgId", msg_id), _element("CreDtTm", iso_datetime(created)), "</GrpHdr>",
        "<OrgnlGrpInfAndSts>", _element("OrgnlMsgId", original_msg_id), _element("OrgnlMsgNmId", original_msg_name),
    ]  # fmt: skip
    if original_created is not None:
        out.append(_element("OrgnlCreDtTm", iso_datetime(original_created)))
    out += _element("OrgnlNbOfTxs", str(len(transactions))), _element("GrpSts", group_status)
    if group_status == PaymentStatus.RJCT:
        _status_reason(out, transactions[0].reason, transactions[0].detail)
    out.append("</OrgnlGrpInfAndSts>")
    for t in transactions:
        out.append("<TxInfAndSts>")
        if t.instr_id is not None:
            out.append(_element("OrgnlInstrId", t.instr_id))
        out.append(_element("OrgnlEndToEndId", t.end_to_end_id))
        if t.tx_id is not None:
            out.append(_element("OrgnlTxId", t.tx_id))
        if t.uetr is not None:
            out.append(_element("OrgnlUETR", t.uetr))
        out.append(_element("TxSts", t.status))
        if t.reason is not None or t.detail:
            _status_reason(out, t.reason, t.detail)
        for tag, bic in (("InstgAgt", t.instructing_agent), ("InstdAgt", t.instructed_agent)):
            if bic is not None:
                out += f"<{tag}><FinInstnId>", _element("BICFI", bic), f"</FinInstnId></{tag}>"
        out.append("</TxInfAndSts>")
    out.append("</FIToFIPmtStsRpt></Document>")
    return "".join(out).encode("utf-8")


_PACS002_HEAD = f"<?xml version='1.0' encoding='UTF-8'?>\n<Document xmlns=\"{NAMESPACES[PACS002]}\"><FIToFIPmtStsRpt>"


def _escape(text: str) -> str:
    """`text` as XML character data: characters XML cannot carry become '?', markup characters are escaped."""
    if _NOT_XML_CHAR.search(text):
        text = _NOT_XML_CHAR.sub("?", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{_escape(text)}</{tag}>"


def rejection(error: MessageRejected, *, msg_id: str, created: datetime) -> bytes:
    """The pacs.002 RJCT answering a refused pacs.008, with the ids it could recover or NOTPROVIDED."""
    return pacs002(
        msg_id=msg_id,
        created=created,
        original_msg_id=error.msg_id or NOT_PROVIDED,
        original_created=error.created,
        transactions=[
            TransactionStatus(
                PaymentStatus.RJCT, error.end_to_end_id or NOT_PROVIDED, error.uetr, reason=error.reason,
                detail=error.detail,
            )
        ],
    )  # fmt: skip


_STATUS_ORDER = (PaymentStatus.PDNG, PaymentStatus.ACTC, PaymentStatus.ACCP, PaymentStatus.ACSP, PaymentStatus.ACSC)


def _group_status(statuses: list[PaymentStatus]) -> PaymentStatus:
    distinct = set(statuses)
    if len(distinct) == 1:
        return statuses[0]
    if PaymentStatus.RJCT in distinct:
        return PaymentStatus.PART
    return min(distinct, key=_STATUS_ORDER.index)


def _status_reason(out: list[str], reason: str | None, detail: str) -> None:
    out.append("<StsRsnInf>")
    if reason is not None:
        out += "<Rsn>", _element("Cd", reason), "</Rsn>"
    out += (_element("AddtlInf", line) for line in _additional_info(detail))
    out.append("</StsRsnInf>")


def _additional_info(text: str) -> list[str]:
    """`text` as AddtlInf lines: XML-safe, at most 105 characters each, at most ten (the tail marked '…')."""
    text = " ".join(_NOT_XML_CHAR.sub("?", text).split())
    size = ADDITIONAL_INFO_CHARS
    lines = [text[i : i + size] for i in range(0, len(text), size)]
    if len(lines) > ADDITIONAL_INFO_LINES:
        lines = lines[:ADDITIONAL_INFO_LINES]
        lines[-1] = lines[-1][: size - 1] + "…"
    return lines
