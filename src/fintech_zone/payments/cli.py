"""``fintech-zone payments …``, ``fx …`` and ``iso20022 …``: the rails from the command line.

The CLI is the zone's local administration tool: it works on the database directly, as the operator, and
``--as`` names the participant an action is taken for where the rails require one (a central bank issuing, an FX
provider posting its rate). Output is JSON, as over HTTP.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.payments import figures as rails_figures
from fintech_zone.payments import fx_service, iso_service, limits, payment_service, service, wallet_service
from fintech_zone.payments.schemas import (
    IssuanceOut,
    LimitIO,
    ParticipantOut,
    PaymentIn,
    PaymentOut,
    QuoteOut,
    RateOut,
    SupplyOut,
    WalletOut,
)
from fintech_zone.payments.screening_config import screener_for
from fintech_zone.payments.service import JoinRequest
from fintech_zone.settings import Settings

app = typer.Typer(help="The pilot rails: participants, digital currency, payments, wallets.", no_args_is_help=True)
fx_app = typer.Typer(help="FX rates and quotes.", no_args_is_help=True)
simulate_app = typer.Typer(help="Demo traffic (labelled DEMO everywhere).", no_args_is_help=True)
iso_app = typer.Typer(help="ISO 20022 messages: pacs.008 in, pacs.002 out; camt.053 statements.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="the participant acting (e.g. the issuing central bank)")]


def _dump(model: object) -> None:
    print_json(model.model_dump(mode="json"))  # type: ignore[attr-defined]


@app.command("join")
def join(
    participant_id: Annotated[str, typer.Option("--id")],
    bic: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="central_bank, bank or fx_provider")],
    jurisdiction: Annotated[str, typer.Option(help="CN or SG for central banks and banks")],
    name_en: Annotated[str, typer.Option()],
    name_zh: Annotated[str, typer.Option()],
    demo: Annotated[bool, typer.Option(help="a DEMO participant (deals only with demo participants)")] = False,
) -> None:
    """A participant joins the rails: its registry organisation, record and ledger accounts."""
    request = JoinRequest(participant_id, bic, role, jurisdiction, name_en, name_zh, demo)
    _dump(ParticipantOut.of(service.join(open_db(), request)))


@app.command("participants")
def participants() -> None:
    """The participants."""
    print_json([ParticipantOut.of(p).model_dump(mode="json") for p in service.list_participants(open_db())])


@app.command("holdings")
def holdings(participant_id: str) -> None:
    """A participant's balances on the rails."""
    print_json(service.holdings(open_db(), participant_id))


@app.command("reserve")
def reserve(central_bank: As, bank: Annotated[str, typer.Option()], asset: str, amount: int) -> None:
    """The central bank credits a domestic bank's reserve account (money arriving from RTGS)."""
    _dump(IssuanceOut.of(service.credit_reserve(open_db(), central_bank, bank, asset, amount)))


@app.command("cap")
def cap(central_bank: As, bank: Annotated[str, typer.Option()], asset: str, amount: int) -> None:
    """The central bank sets how many of its tokens a domestic bank may hold issued."""
    _dump(ParticipantOut.of(service.set_cap(open_db(), central_bank, bank, asset, amount)))


@app.command("issue")
def issue(central_bank: As, bank: Annotated[str, typer.Option()], asset: str, amount: int) -> None:
    """The central bank issues its token to a domestic bank against its reserve."""
    _dump(IssuanceOut.of(service.issue(open_db(), central_bank, bank, asset, amount)))


@app.command("redeem")
def redeem(central_bank: As, bank: Annotated[str, typer.Option()], asset: str, amount: int) -> None:
    """The central bank redeems a domestic bank's tokens back into its reserve."""
    _dump(IssuanceOut.of(service.redeem(open_db(), central_bank, bank, asset, amount)))


@app.command("supply")
def supply(asset: str) -> None:
    """A token's supply, three ways (they must agree)."""
    _dump(SupplyOut.of(service.supply(open_db(), asset)))


@app.command("send")
def send(
    source: Annotated[str, typer.Argument(help="JSON file with one payment (as POST /api/v1/payments), or -")],
) -> None:
    """Send a payment; prints it with its status and every decision."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        body = PaymentIn.model_validate_json(text)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{source}: {exc}")
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{source}: {'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}")
    db = open_db()
    payment, _ = payment_service.submit(db, body.to_request(), screener_for(Settings()))
    _dump(PaymentOut.of(payment))


@app.command("show")
def show(uetr: str) -> None:
    """A payment and its decisions."""
    _dump(PaymentOut.of(payment_service.get_payment(open_db(), uetr)))


@app.command("review")
def review(
    uetr: str,
    decision: Annotated[str, typer.Option(help="release or reject")],
    reason: Annotated[str, typer.Option()],
    reviewer: Annotated[str, typer.Option(help="who decides")] = "operator:cli",
) -> None:
    """Release or reject a payment held by screening."""
    if decision not in ("release", "reject"):
        fail("--decision is release or reject")
    _dump(PaymentOut.of(payment_service.review(open_db(), uetr, decision == "release", reason, reviewer)))


@app.command("limit")
def set_limit(
    scope: Annotated[str, typer.Option(help="participant or corridor")],
    key: Annotated[str, typer.Option(help="participant id, or corridor like CN-SG")],
    asset: Annotated[str, typer.Option()],
    per_payment: Annotated[int | None, typer.Option()] = None,
    daily: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Set a per-participant or per-corridor limit."""
    _dump(
        LimitIO.of(
            limits.set_limit(
                open_db(), LimitIO(scope=scope, key=key, asset=asset, per_payment=per_payment, daily=daily).to_model()
            )
        )
    )


@app.command("figures")
def figures(
    from_: Annotated[str, typer.Option("--from", help="YYYY-MM")], to: Annotated[str, typer.Option(help="YYYY-MM")]
) -> None:
    """RMB internationalisation figures by month, corridor and asset."""
    try:
        start = datetime.strptime(from_, "%Y-%m").replace(tzinfo=UTC)
        last = datetime.strptime(to, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        fail("--from and --to are months: YYYY-MM")
    end = last.replace(year=last.year + 1, month=1) if last.month == 12 else last.replace(month=last.month + 1)
    months, share = rails_figures.rmb_figures(open_db(), start, end)
    print_json({"months": months, "cny_share": share})


@app.command("open-wallet")
def open_wallet(
    wallet_id: Annotated[str, typer.Option("--id")],
    bank: Annotated[str, typer.Option()],
    holder: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option(help="person or merchant")] = "person",
    tier: Annotated[int, typer.Option(help="1 (identity checked in person) … 4 (phone number only)")] = 4,
) -> None:
    """A bank opens a retail wallet."""
    db = open_db()
    wallet_service.open_wallet(db, None, wallet_id, bank, holder, kind, tier)
    _dump(WalletOut.of(wallet_service.get_wallet(db, wallet_id)))


@app.command("load-wallet")
def load_wallet(wallet_id: str, amount: int, unload: Annotated[bool, typer.Option()] = False) -> None:
    """Load a wallet from its bank (or unload it back)."""
    _dump(WalletOut.of(wallet_service.load(open_db(), None, wallet_id, amount, unload)))


@app.command("wallet")
def wallet(wallet_id: str) -> None:
    """A wallet: balance, paid today, tier limits."""
    _dump(WalletOut.of(wallet_service.get_wallet(open_db(), wallet_id)))


@fx_app.command("rate")
def rate(
    provider: As,
    pair: Annotated[str, typer.Option(help="e.g. CNY/SGD")],
    value: Annotated[str, typer.Option("--rate", help="decimal: quote currency per unit of base")],
    spread_bps: Annotated[int, typer.Option()] = 0,
    valid_seconds: Annotated[int, typer.Option()] = 3600,
) -> None:
    """An FX provider posts its rate for a pair."""
    _dump(RateOut.of(fx_service.post_rate(open_db(), provider, provider, pair, value, spread_bps, valid_seconds)))


@fx_app.command("quote")
def quote(
    source: Annotated[str, typer.Option()],
    target: Annotated[str, typer.Option()],
    source_amount: Annotated[int | None, typer.Option()] = None,
    target_amount: Annotated[int | None, typer.Option()] = None,
) -> None:
    """A quote for a source or a target amount (valid 600 s, usable once)."""
    _dump(QuoteOut.of(fx_service.create_quote(open_db(), source, target, source_amount, target_amount)))


@iso_app.command("pacs008")
def pacs008(source: Annotated[str, typer.Argument(help="pacs.008.001.08 XML file, or -")]) -> None:
    """Process a pacs.008 and print the pacs.002 answer (exit 2 when the message is refused as FF01)."""
    try:
        body = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        fail(f"{source}: {exc}")
    answer = iso_service.receive_pacs008(open_db(), body, screener_for(Settings()), None)
    sys.stdout.buffer.write(answer.document + b"\n")
    if answer.http_status != 200:
        raise typer.Exit(2)


@iso_app.command("camt053")
def camt053(
    account: Annotated[str, typer.Option(help="ledger account id, e.g. pay:cq-bank:CNY")],
    from_: Annotated[str, typer.Option("--from", help="first day YYYY-MM-DD")],
    to: Annotated[str, typer.Option(help="last day YYYY-MM-DD")],
) -> None:
    """A camt.053 statement of an account over a period (UTC days)."""
    try:
        start, last = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        fail("--from and --to are days: YYYY-MM-DD")
    document = iso_service.statement(
        open_db(),
        account,
        datetime.combine(start, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
        None,
    )
    sys.stdout.buffer.write(document + b"\n")


@simulate_app.command("payments")
def simulate_payments(
    rate: Annotated[float, typer.Option(help="payments per second", min=0.1, max=10_000)] = 5,
    duration: Annotated[float, typer.Option(help="seconds", min=1, max=7 * 24 * 3600)] = 60,
    url: Annotated[str, typer.Option(help="the running server")] = "http://127.0.0.1:8000",
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Drive DEMO payments (CN⇄SG cross-border and domestic) through the server's public API."""
    from rich.live import Live

    from fintech_zone.payments import simulate

    if not simulate.reachable(url):
        fail(f"no fintech-zone server answers at {url} (start one with ./zone serve, or pass --url)")
    with Live(refresh_per_second=2) as live:

        def show(t: simulate.Tally) -> None:
            live.update(f"DEMO payments sent {t.sent}: {dict(t.outcomes)} errors {dict(t.errors)}")

        tally = simulate.run(open_db(), url, rate, duration, seed, progress=show)
    print_json({"demo": True, "sent": tally.sent, "outcomes": dict(tally.outcomes), "errors": dict(tally.errors)})
