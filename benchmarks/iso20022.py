"""ISO 20022 throughput: pacs.008 in → validated → mapped → pacs.002 out, in-process, against xmlschema, in one run.

    python -m benchmarks.iso20022 [--messages 20000] [--peer-messages 2000]

* **ours**: ``payments.pacs008.parse_pacs008`` (the safe-parsing gate, lxml validation against the shipped
  pacs.008.001.08 XSD, mapping to ``CreditTransfer``), the rails' payment (``iso_service.to_request``: the
  ``PaymentRequest`` with its checks), then ``pacs002`` building the ACSC answer bytes, for
  ``--messages`` messages one after another in this process: messages per second.
* **lxml_validate**: the parse-and-validate step alone, for the same messages.
* **peer**: xmlschema (extra ``bench``), the pure-Python XSD validator, building the same XSD file once and then
  validating (``XMLSchema.is_valid``) the first ``--peer-messages`` of the same messages, parsing included.

The messages are the synthetic CNY→SGD pacs.008 of the tests (``tests/payments/data/pacs008_cny_sgd.xml``), each
with its own MsgId, EndToEndId and UETR, made before timing starts. The schemas are compiled before timing (the
compile time is reported apart). Every answer is checked afterwards (ACSC, the right UETR) and a sample of them is
validated against the shipped pacs.002.001.10 XSD. Targets (issue "pilot rails"): ≥ 5,000 messages/s, ≥ 10×
xmlschema's validation rate.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lxml import etree

from benchmarks.registry_import import ROOT, command_line, machine_info, machine_load, peak_rss_mb
from fintech_zone.payments import iso20022 as iso
from fintech_zone.payments import pacs002 as p2
from fintech_zone.payments import pacs008
from fintech_zone.payments.iso_service import to_request

SAMPLE = ROOT / "tests" / "payments" / "data" / "pacs008_cny_sgd.xml"
XSD = Path(iso.__file__).parent / "xsd" / f"{iso.PACS008}.xsd"
TARGETS = {"messages_per_s": 5_000, "ratio_to_xmlschema": 10}


def messages(count: int, seed: int) -> list[bytes]:
    """`count` copies of the sample, each with fresh ids (a UUIDv4 UETR from a seeded generator)."""
    template = SAMPLE.read_bytes()
    rng = random.Random(seed)
    out = []
    for i in range(count):
        uetr = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        out.append(
            template.replace(b"FZCQ20260302-000187", f"FZCQ20260302-{i:06d}".encode())
            .replace(b"INV-2026-0457", f"INV-{i:09d}".encode())
            .replace(b"3f2a6c1e-8b4d-4e7a-9c15-2d8e6f0a7b93", uetr.encode())
        )
    return out


def ours(bodies: list[bytes]) -> tuple[float, list[bytes], list[str]]:
    """Seconds for the whole pipeline over `bodies`, the pacs.002 answers and the UETRs read."""
    answers: list[bytes] = []
    uetrs: list[str] = []
    now = datetime.now(UTC)
    started = time.perf_counter()
    for body in bodies:
        message = pacs008.parse_pacs008(body)
        tx = message.transactions[0]
        to_request(tx, "cq-bank", "sg-bank", tx.instructed_currency or tx.currency, tx.amount_minor, None)
        answers.append(
            p2.pacs002(
                msg_id=p2.new_message_id(),
                created=now,
                original_msg_id=message.msg_id,
                original_created=message.created,
                transactions=[p2.TransactionStatus.of(tx, iso.PaymentStatus.ACSC)],
            )
        )
        uetrs.append(tx.uetr)
    return time.perf_counter() - started, answers, uetrs


def lxml_validate(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        iso.validate(iso.PACS008, iso.parse_xml(body))
    return time.perf_counter() - started


def peer(bodies: list[bytes]) -> dict[str, Any]:
    import xmlschema

    started = time.perf_counter()
    schema = xmlschema.XMLSchema(str(XSD))
    build_ms = (time.perf_counter() - started) * 1000
    texts = [b.decode("utf-8") for b in bodies]
    started = time.perf_counter()
    valid = sum(1 for text in texts if schema.is_valid(text))
    seconds = time.perf_counter() - started
    if valid != len(texts):
        raise SystemExit(f"xmlschema found {len(texts) - valid} of the messages invalid; lxml found none")
    return {
        "package": f"xmlschema {version('xmlschema')}",
        "messages": len(texts),
        "seconds": round(seconds, 3),
        "messages_per_s": round(len(texts) / seconds),
        "schema_build_ms": round(build_ms, 1),
    }


def check(answers: list[bytes], uetrs: list[str], bodies: list[bytes]) -> None:
    """Every answer is an ACSC for its own message; a spread sample is valid against the pacs.002 XSD."""
    for i, (answer, uetr) in enumerate(zip(answers, uetrs, strict=True)):
        if b"<TxSts>ACSC</TxSts>" not in answer or f"<OrgnlUETR>{uetr}</OrgnlUETR>".encode() not in answer:
            raise SystemExit(f"answer {i} is not the ACSC of its message")
        if uetr.encode() not in bodies[i]:
            raise SystemExit(f"message {i} was mapped to the wrong UETR")
    for i in range(0, len(answers), max(1, len(answers) // 50)):
        iso.validate(iso.PACS002, answers[i])


def run(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    info = machine_info()
    bodies = messages(args.messages, args.seed)
    started = time.perf_counter()  # first use compiles both schemas
    iso.validate(iso.PACS008, SAMPLE.read_bytes())
    iso.validate(
        iso.PACS002, p2.rejection(iso.MessageRejected("FF01", "warm-up"), msg_id="X", created=datetime.now(UTC))
    )
    compile_ms = (time.perf_counter() - started) * 1000
    ours(bodies[: min(500, len(bodies))])  # warm-up: first-use paths, allocator
    seconds, answers, uetrs = ours(bodies)
    check(answers, uetrs, bodies)
    validate_seconds = lxml_validate(bodies)
    theirs = peer(bodies[: args.peer_messages])
    per_s = round(len(bodies) / seconds)
    out: dict[str, Any] = {
        "benchmark": "iso20022",
        "command": command_line("benchmarks.iso20022", argv),
        "machine": info,
        "lxml": ".".join(map(str, etree.LXML_VERSION[:3])),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "message_bytes": len(bodies[0]),
        "answer_bytes": len(answers[0]),
        "messages": len(bodies),
        "schema_compile_ms": round(compile_ms, 1),
        "seconds": round(seconds, 3),
        "messages_per_s": per_s,
        "us_per_message": round(seconds / len(bodies) * 1e6, 1),
        "lxml_validate_per_s": round(len(bodies) / validate_seconds),
        "peer": theirs,
        "ratio_to_xmlschema": round(per_s / theirs["messages_per_s"], 1),
        "peak_rss_mb": peak_rss_mb(),
    }
    out["targets"] = {
        name: {"figure": out[name], "target": target, "met": out[name] >= target} for name, target in TARGETS.items()
    }
    out["machine"].update(machine_load("after"))
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.iso20022", description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=20_000, help="messages through our pipeline")
    p.add_argument("--peer-messages", type=int, default=2_000, help="of those, how many xmlschema validates")
    p.add_argument("--seed", type=int, default=2026)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.messages < 1 or not 1 <= args.peer_messages <= args.messages:
        raise SystemExit("need --messages ≥ 1 and 1 ≤ --peer-messages ≤ --messages")
    print(json.dumps(run(args, argv), indent=2))


if __name__ == "__main__":
    main()
