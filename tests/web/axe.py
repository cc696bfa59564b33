"""Accessibility checks in the browser: axe-core (from npm, ``frontend/tools``) injected into the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "frontend" / "tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


async def violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe violations of the page as it is now (WCAG 2.x A/AA and best practices)."""
    assert AXE.exists(), f"axe-core is missing ({AXE}): run ./frontend/setup.sh (npm ci in frontend/tools)"
    # Toasts fade in and out; axe would measure the contrast of a half-transparent frame.
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-sonner-toast]').length === 0", timeout=15_000
    )
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    results = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return [v for v in results if v.get("impact") in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found)
