"""The hall's kiosk left running: ``/hall?kiosk=1`` in headless Chromium at 1920x1080 for ``--minutes`` while demo
payments settle, optionally through a server crash and restart.

    python -m benchmarks.hall_soak [--minutes 10] [--rotate 10] [--lang zh] [--rate 20] [--restart-at 300] [--json]

The server, its seed and the simulation are started as ``benchmarks.hall`` starts them (``fintech-zone serve``
on a fresh SQLite database, ``fintech-zone progress load-seed``, ``fintech-zone simulate payments``). Debian's
``/usr/bin/chromium`` (never a downloaded browser) opens ``/hall?kiosk=1&rotate=N&lang=L`` and this records:

* every console error and warning, uncaught page error, failed request and HTTP status ≥ 400, from the kiosk page
  and its slide frames. Two kinds are expected and kept apart: anything while the server is down (from the kill
  until 3 s after it answers again: the kiosk's own checks and the corridor's event stream fail then, by design),
  and the corridor slide's event stream aborted (``net::ERR_ABORTED``) when its frame is given the next slide.
  Everything else is an error, and there must be none;
* the slide sequence (``document.body.dataset.slide``) and the offline notice (``#offline``), from a mutation
  observer in the page: every slide shown, in order, and the time each stayed;
* on each live-corridor slide, the updates its page drew (``#corridor``'s ``data-updates``) and its state;
* every minute, after a forced garbage collection: the frames' URLs, the kiosk's JS heap, documents, frames, DOM
  nodes and event listeners (CDP ``Performance``), the browser's processes' proportional memory (PSS, summed),
  and the server's resident memory, to show growth.

With ``--restart-at S`` the server's process group gets SIGKILL at S seconds (a crash, not a shutdown), stays down
``--down-seconds``, and is started again on the same port and database: the kiosk must show ``#offline`` while it
is down and hide it and rotate again after.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.hall import (
    CHROMIUM,
    CHROMIUM_ARGS,
    chromium_version,
    database_mb,
    hall_env,
    load_seed,
    proc_mem_mb,
    serve_argv,
    simulation_argv,
    simulation_tally,
    start_server,
    start_simulation,
    stop_process,
    wait_for_demo_payments,
)
from benchmarks.ledger import free_port
from benchmarks.registry_import import command_line, machine_info, machine_load, peak_rss_mb

SLIDES = 6  # showcase.pages.SLIDES
OUTAGE_GRACE_S = 3.0
WATCH = """
(() => {
  if (window.top !== window) return;
  window.__fzSoak = [];
  let last = "";
  const note = () => {
    const offline = document.getElementById("offline");
    const state = {
      slide: document.body ? document.body.dataset.slide ?? null : null,
      offline: offline ? !offline.hidden : null,
    };
    const key = JSON.stringify(state);
    if (key !== last) { last = key; window.__fzSoak.push({ t: Date.now(), ...state }); }
  };
  new MutationObserver(note).observe(document, {
    subtree: true, attributes: true, attributeFilter: ["data-slide", "hidden"], childList: true,
  });
})();
"""
CORRIDOR_STATE = """
() => {
  const c = document.getElementById("corridor");
  const live = document.querySelector("#corridor .live");
  return c ? { doc: performance.timeOrigin, updates: Number(c.dataset.updates || 0),
               state: live ? live.dataset.state : null } : null;
}
"""


def demo_payments_by_status(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from fintech_zone.db import Database

    db = Database.from_url(url)
    try:
        with db.read() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM payments WHERE demo GROUP BY status"))
            return {str(status): int(n) for status, n in rows}
    finally:
        db.dispose()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the Playwright driver and the browser it started)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def browser_pss_mb() -> float:
    """The browser's processes' proportional set size, summed (shared pages counted once, unlike RSS)."""
    total_kb = 0
    for pid in descendants(os.getpid()):
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.env = hall_env(workdir)
        self.port = free_port()
        self.t0 = time.time()
        self.events: list[dict[str, Any]] = []  # console, page errors, failed requests, HTTP ≥ 400
        self.states: list[dict[str, Any]] = []  # slide / offline changes
        self.memory: list[dict[str, Any]] = []
        self.corridor: dict[float, dict[str, Any]] = {}  # per corridor document: updates seen, alive
        self.restart: dict[str, Any] = {}
        self.server: Any = None
        self.db_counts: dict[str, int] = {}
        self.db_size: dict[str, float] = {}

    def now(self) -> float:
        return round(time.time() - self.t0, 2)

    def record(self, kind: str, text: str, url: str | None = None) -> None:
        self.events.append({"t": self.now(), "kind": kind, "text": text[:500], **({"url": url} if url else {})})

    def watch(self, page: Any) -> None:
        def console(m: Any) -> None:
            if m.type in ("error", "warning"):
                self.record(f"console.{m.type}", m.text, (m.location or {}).get("url"))

        page.on("console", console)
        page.on("pageerror", lambda e: self.record("pageerror", str(e)))
        page.on("requestfailed", lambda r: self.record("requestfailed", str(r.failure), r.url))
        page.on(
            "response", lambda r: self.record(f"http {r.status}", r.status_text, r.url) if r.status >= 400 else None
        )
        page.on("crash", lambda _p: self.record("crash", "the page crashed"))

    def poll(self, page: Any) -> None:
        for s in page.evaluate("() => window.__fzSoak.splice(0)"):
            self.states.append({"t": round(s["t"] / 1000 - self.t0, 2), "slide": s["slide"], "offline": s["offline"]})
        for frame in page.frames:
            if "/hall/corridor" not in frame.url:
                continue
            try:
                seen = frame.evaluate(CORRIDOR_STATE)
            except Exception:  # the frame navigated away meanwhile
                continue
            if seen:
                doc = self.corridor.setdefault(seen["doc"], {"first_t": self.now(), "updates": 0, "states": set()})
                doc["updates"] = max(doc["updates"], seen["updates"])
                doc["last_t"] = self.now()
                doc["states"].add(seen["state"])

    def sample_memory(self, page: Any, cdp: Any) -> None:
        cdp.send("HeapProfiler.collectGarbage")  # what is still held, not what awaits collection
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        self.memory.append(
            {
                "t": self.now(),
                "frame_urls": [f.url.split("?")[0].removeprefix(f"http://127.0.0.1:{self.port}") for f in page.frames],
                "js_heap_used_mb": round(metrics.get("JSHeapUsedSize", 0) / 2**20, 1),
                "documents": int(metrics.get("Documents", 0)),
                "frames": int(metrics.get("Frames", 0)),
                "nodes": int(metrics.get("Nodes", 0)),
                "js_event_listeners": int(metrics.get("JSEventListeners", 0)),
                "browser_pss_mb": browser_pss_mb(),
                "server_rss_mb": proc_mem_mb(self.server.pid) if self.server else None,
            }
        )

    def crash_and_restart(self) -> None:
        """SIGKILL the server's process group, wait, start it again on the same port and database."""
        self.restart["killed_at_s"] = self.now()
        stop_process(self.server, signal.SIGKILL)
        time.sleep(self.args.down_seconds)
        self.restart["started_again_at_s"] = self.now()
        try:
            self.server = start_server(self.env, self.workdir, self.port)
            self.restart["answering_at_s"] = self.now()
        except RuntimeError as exc:
            self.restart["error"] = str(exc)[-1000:]

    def run(self, say: Callable[[str], None]) -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        args = self.args
        url = self.env["FZ_DATABASE_URL"]
        seed = load_seed(self.env, self.workdir)
        self.server = start_server(self.env, self.workdir, self.port)
        sim_seconds = args.minutes * 60 + 20  # the set-up before the kiosk opens takes a few seconds of it
        sim = start_simulation(self.env, self.workdir, self.port, args.rate, sim_seconds)
        restarter: threading.Thread | None = None
        try:
            wait_for_demo_payments(url, max(5, int(args.rate)), 60.0)
            kiosk = f"http://127.0.0.1:{self.port}/hall?kiosk=1&rotate={args.rotate}&lang={args.lang}"
            say(f"server on {self.port}, simulation at {args.rate}/s; kiosk {kiosk} for {args.minutes} min")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                context = browser.new_context(
                    viewport={"width": 1920, "height": 1080}, locale="zh-CN" if args.lang == "zh" else "en-GB"
                )
                context.add_init_script(WATCH)
                page = context.new_page()
                self.watch(page)
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable")
                self.t0 = time.time()
                page.goto(kiosk, wait_until="load")
                end = self.t0 + args.minutes * 60
                next_memory = time.time()
                while time.time() < end:
                    if args.restart_at is not None and restarter is None and self.now() >= args.restart_at:
                        say(f"{self.now():.0f} s: killing the server (SIGKILL) for {args.down_seconds} s")
                        restarter = threading.Thread(target=self.crash_and_restart, daemon=True)
                        restarter.start()
                    self.poll(page)
                    if time.time() >= next_memory:
                        self.sample_memory(page, cdp)
                        next_memory += 60
                        say(f"{self.now():.0f} s: {len(self.states)} changes, {len(self.events)} events")
                    page.wait_for_timeout(1000)
                self.poll(page)
                self.sample_memory(page, cdp)
                browser.close()
            if restarter is not None:
                restarter.join()
            try:
                sim.wait(timeout=60)
            except subprocess.TimeoutExpired:
                say("the simulation outlived the soak by a minute: stopped")
            self.db_counts = demo_payments_by_status(url)
            self.db_size = database_mb(self.workdir)
        finally:
            stop_process(sim, signal.SIGINT)
            if self.server is not None:
                stop_process(self.server)
        return self.report(seed, sim_seconds)

    def report(self, seed: dict[str, Any], sim_seconds: float) -> dict[str, Any]:
        args = self.args
        down = None
        if self.restart:
            back = self.restart.get("answering_at_s", float("inf"))
            down = (self.restart["killed_at_s"] - 1.0, back + OUTAGE_GRACE_S)
        transitions = []
        last_slide = None
        for s in self.states:
            if s["slide"] is not None and s["slide"] != last_slide:
                transitions.append((s["t"], int(s["slide"])))
                last_slide = s["slide"]
        out_of_order = [
            {"t": t, "from": a, "to": b} for (_, a), (t, b) in itertools.pairwise(transitions) if b != (a + 1) % SLIDES
        ]
        dwell = [b[0] - a[0] for a, b in itertools.pairwise(transitions)]
        errors, during_outage, aborted_streams = [], [], []
        for e in self.events:
            if down and down[0] <= e["t"] <= down[1]:
                during_outage.append(e)
            elif (
                e["kind"] == "requestfailed"
                and "net::ERR_ABORTED" in e["text"]
                and "/hall/corridor/events" in e.get("url", "")
            ):
                aborted_streams.append(e)
            else:
                errors.append(e)
        restart: dict[str, Any] | None = None
        if self.restart:
            restart = dict(self.restart)
            killed, back = self.restart["killed_at_s"], self.restart.get("answering_at_s")
            shown = next((s["t"] for s in self.states if s["t"] >= killed and s["offline"]), None)
            hidden = next((s["t"] for s in self.states if back and s["t"] >= back and s["offline"] is False), None)
            after = [t for t, _ in transitions if back and t >= back]
            during = [t for t, _ in transitions if killed <= t < (back or float("inf"))]
            restart.update(
                {
                    "offline_shown_after_kill_s": round(shown - killed, 2) if shown is not None else None,
                    "offline_hidden_after_answering_s": round(hidden - back, 2) if hidden and back else None,
                    "first_slide_change_after_answering_s": round(after[0] - back, 2) if after and back else None,
                    "slide_changes_while_down": len(during),
                    "slide_changes_after_restart": len(after),
                    "slides_seen_after_restart": sorted({s for t, s in transitions if back and t >= back}),
                }
            )
            restart["ok"] = (
                shown is not None
                and hidden is not None
                and len(after) >= SLIDES
                and restart["slides_seen_after_restart"] == list(range(SLIDES))
            )
        corridor = [
            {
                "updates": d["updates"],
                "alive_s": round(d.get("last_t", d["first_t"]) - d["first_t"], 1),
                "states": sorted(str(s) for s in d["states"]),
            }
            for d in self.corridor.values()
        ]
        seen = sorted({s for _, s in transitions})
        tally = simulation_tally(self.workdir)
        result = {
            "errors": errors,
            "ok": False,
            "slide_changes": len(transitions),
            "rotations": sum(1 for (_, a), (_, b) in itertools.pairwise(transitions) if (a, b) == (5, 0)),
            "slides_seen": seen,
            "out_of_order": out_of_order,
            "seconds_per_slide": (
                {
                    "median": round(statistics.median(dwell), 2),
                    "max": round(max(dwell), 2),
                    "min": round(min(dwell), 2),
                }
                if dwell
                else {}
            ),
            "restart": restart,
            "errors_while_the_server_was_down": {
                "count": len(during_outage),
                "kinds": sorted({e["kind"] for e in during_outage}),
                "sample": during_outage[:8],
            },
            "corridor_streams_aborted_when_their_slide_was_replaced": len(aborted_streams),
            "corridor_slides": corridor,
            "memory": self.memory,
            "database_mb_at_the_end": self.db_size,
            "simulation": {
                "command": " ".join(["fintech-zone", *simulation_argv(self.port, args.rate, sim_seconds)[1:]]),
                "tally": tally,
                "note": "stopped (SIGINT) when the soak ended: no tally is printed then"
                if tally is None
                else "ran to its end",
                "demo_payments_in_db_by_status": self.db_counts,
            },
            "server": {"command": " ".join(["fintech-zone", *serve_argv(self.port)[1:]]), "seed": seed},
        }
        result["ok"] = (
            not errors and seen == list(range(SLIDES)) and not out_of_order and (restart is None or bool(restart["ok"]))
        )
        return result


def run(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    say: Callable[[str], None] = (
        (lambda m: None) if args.json else (lambda m: print(f"[hall_soak] {m}", file=sys.stderr, flush=True))
    )
    out: dict[str, Any] = {
        "benchmark": "hall_soak",
        "command": command_line("benchmarks.hall_soak", argv),
        "machine": {**machine_info(), "chromium": chromium_version()},
        "parameters": {
            "minutes": args.minutes,
            "rotate_s": args.rotate,
            "lang": args.lang,
            "rate": args.rate,
            "restart_at_s": args.restart_at,
            "down_seconds": args.down_seconds if args.restart_at is not None else None,
            "viewport": "1920x1080",
        },
    }
    with tempfile.TemporaryDirectory(prefix="fz-bench-hall-soak-") as tmp:
        workdir = Path(tmp)
        out.update(Soak(args, workdir).run(say))
        log = (workdir / "server.log").read_text(errors="replace").splitlines()
        out["server_log_errors"] = [line for line in log if "Traceback" in line or line.startswith("ERROR")][:50]
    out["machine"].update(machine_load("after"))
    out["orchestrator_peak_rss_mb"] = peak_rss_mb()
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hall_soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rotate", type=int, default=10, help="seconds each slide shows (the kiosk's rotate=, 3-600)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--rate", type=float, default=20.0, help="demo payments a second from the simulation")
    p.add_argument("--restart-at", type=float, default=None, help="kill (SIGKILL) and restart the server at S s")
    p.add_argument("--down-seconds", type=float, default=20.0, help="how long the server stays down")
    p.add_argument("--json", action="store_true", help="only the JSON object, on one line; no progress on stderr")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if not 3 <= args.rotate <= 600 or args.minutes <= 0:
        raise SystemExit("need 3 ≤ --rotate ≤ 600 and --minutes > 0")
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is not installed at /usr/bin/chromium (never a downloaded browser)")
    out = run(args, argv)
    print(json.dumps(out) if args.json else json.dumps(out, indent=2, ensure_ascii=False))
    if not out["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
