"""Two accessibility checks for the browser tests, on a page Playwright has already opened.

- ``axe_violations``: axe-core (vendored in ``vendor/axe-core``, see its README.txt) injected into the page as
  inline text, so the check runs in the browser with no request leaving the machine; the serious and critical
  violations it finds, each shortened for an assertion message (``format_violations``).
- ``unreachable_by_tab``: the visible, enabled controls that pressing Tab never reaches.

Frames: both checks look at the top document only. axe runs with ``iframes: false`` (a frame's own page is checked
at its own address), and the Tab walk neither collects a frame's controls nor takes the steps spent inside a frame
for a wrap-around (see ``unreachable_by_tab``).

The script goes in with ``page.add_script_tag(content=...)``: if the platform ever sends a Content-Security-Policy
without inline scripts, open the page with ``bypass_csp=True``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TARGETS_SHOWN = 3  # node targets kept per violation


class Violation(TypedDict):
    id: str  # the axe rule, e.g. "color-contrast"
    impact: str  # minor, moderate, serious or critical
    help: str  # what the rule asks, in one line
    targets: list[str]  # CSS selectors of the first few offending elements
    nodes: int  # how many elements offend in all


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Violation]:
    """axe-core's violations of ``impacts`` on the page as it stands (rules of every standard axe ships)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations'], iframes: false})).violations"
    )
    return [
        Violation(
            id=v["id"],
            impact=v["impact"],
            help=v["help"],
            # A target is a list of selectors when the element sits in a shadow root: host first, then inside.
            targets=[" >>> ".join(_flat(n["target"])) for n in v["nodes"][:TARGETS_SHOWN]],
            nodes=len(v["nodes"]),
        )
        for v in found
        if v["impact"] in impacts
    ]


def _flat(target: list[Any]) -> list[str]:
    return [s if isinstance(s, str) else " >>> ".join(_flat(s)) for s in target]


def format_violations(violations: list[Violation]) -> str:
    """One line a violation, then its elements: for an assertion message."""
    lines: list[str] = []
    for v in violations:
        more = v["nodes"] - len(v["targets"])
        lines.append(f"{v['impact']}: {v['id']} — {v['help']} ({v['nodes']} element(s))")
        lines.extend(f"    {t}" for t in v["targets"])
        if more > 0:
            lines.append(f"    … and {more} more")
    return "\n".join(lines)


# -- keyboard -----------------------------------------------------------------------------------------------------

FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])"

# Collects the controls Tab ought to reach and keeps them on the page for the walk. Left out: hidden ones (not
# rendered, visibility hidden, in a closed <details>), disabled ones (also by a disabled <fieldset>), inert ones,
# a negative tabindex, and a <summary> that is not its <details>' first (it is no control). The radio buttons of
# one group count as one control: Tab enters a group once and the arrow keys move within it.
_COLLECT = """
(selector) => {
  const usable = (el) =>
    el.checkVisibility({checkVisibilityCSS: true}) && !el.matches(':disabled') && !el.closest('[inert]')
    && !(el.tabIndex < 0 && el.hasAttribute('tabindex'))
    && !(el.localName === 'summary' && el.parentElement?.querySelector(':scope > summary') !== el);
  const describe = (el) => {
    let d = el.localName;
    if (el.id) d += '#' + el.id;
    for (const a of ['href', 'name', 'type', 'role']) if (el.hasAttribute(a)) d += `[${a}="${el.getAttribute(a)}"]`;
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.title || '').trim();
    return text ? `${d} "${text.replace(/\\s+/g, ' ').slice(0, 60)}"` : d;
  };
  const entries = [], groups = new Map();
  for (const el of document.querySelectorAll(selector)) {
    if (!usable(el)) continue;
    if (el.localName === 'input' && el.type === 'radio' && el.name) {
      const key = (el.form ? [...document.forms].indexOf(el.form) : -1) + ' ' + el.name;
      if (groups.has(key)) { groups.get(key).els.push(el); continue; }
      const entry = {els: [el], text: `radio group "${el.name}"`};
      groups.set(key, entry);
      entries.push(entry);
      continue;
    }
    entries.push({els: [el], text: describe(el)});
  }
  window.__fzTabWalk = {entries, ids: new WeakMap(), next: 0};
  return entries.map((e) => e.text);
}
"""

# Where focus stands after a key press: which entry (-1 for none), an id for the element to see a repeat by, and
# whether the focus is inside a frame (the top document then only knows the <iframe>).
_ACTIVE = """
() => {
  const w = window.__fzTabWalk, a = document.activeElement;
  if (!a || a === document.body || a === document.documentElement) return {entry: -1, id: null, frame: false};
  if (!w.ids.has(a)) w.ids.set(a, w.next++);
  const frame = a.localName === 'iframe' || a.localName === 'frame' || a.localName === 'object';
  return {entry: w.entries.findIndex((e) => e.els.includes(a)), id: w.ids.get(a), frame};
}
"""

_TO_THE_TOP = """
() => {
  document.activeElement?.blur();
  window.getSelection()?.collapse(document.body, 0);
  window.scrollTo(0, 0);
}
"""


def unreachable_by_tab(page: Page, max_steps: int = 400) -> list[str]:
    """The visible, enabled controls (``FOCUSABLE``) that pressing Tab from the top of the page never focuses.

    Each is given as its tag with id, href, name, type and role, and its text. The walk stops once every control
    was reached, once an element is focused a second time (Tab has gone round: the order is fixed, so nothing new
    can follow), after a few presses in a row that focus nothing, or after ``max_steps`` presses.

    Controls inside an iframe are skipped: ``querySelectorAll`` does not reach into a frame's document (nor could
    it into another origin's), and while focus moves within a frame the top document's ``activeElement`` stays the
    ``<iframe>``, so those presses are passed over rather than taken for a wrap-around. A frame's own page is
    walked at its own address.
    """
    descriptions: list[str] = page.evaluate(_COLLECT, FOCUSABLE)
    page.evaluate(_TO_THE_TOP)
    reached: set[int] = set()
    seen: set[int] = set()
    idle = 0
    for _ in range(max_steps):
        if len(reached) == len(descriptions):
            break
        page.keyboard.press("Tab")
        step: dict[str, Any] = page.evaluate(_ACTIVE)
        if step["id"] is None:
            idle += 1
            if idle > 3:  # past the document's end focus rests on the page once or twice, then comes round
                break
            continue
        idle = 0
        if step["frame"]:
            continue
        if step["id"] in seen:
            break
        seen.add(step["id"])
        if step["entry"] >= 0:
            reached.add(step["entry"])
    return [d for i, d in enumerate(descriptions) if i not in reached]
