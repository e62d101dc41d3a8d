"""`pharmwatch demo run --hostile`, as a user types it: the whole demo web plus every hostile.test
endpoint in one scan, which finishes, prints the daily list and names each failure it met."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Endpoints that cannot yield a page, and the words their recorded reason must contain.
EXPECTED_FAILURES: dict[str, str | tuple[str, ...]] = {
    "slow": "took longer than",
    "never": "took longer than",
    # The exact reason for /reset is asserted in tests/reliability/test_hostile_web.py. Here, among 60
    # pages and two tarpits on one machine, the reset was once not seen within the 10 s timeout (1 run
    # in 3): either named reason will do, what matters is that the failure is reported.
    "reset": ("ResponseDataLoss", "took longer than"),
    "redirect-loop": "max redirections",
    "redirect-chain": "max redirections",
    "redirect-private": "private or reserved address",
    "gzip-bomb": "during decompression",
    "brotli-bomb": "during decompression",
    "binary": "binary content (Windows executable)",
    "pdf": "binary content (PDF)",
    "image": "binary content (PNG)",
    "rate-limited": "HTTP 429 (Retry-After: 3600; not waited for)",
    "unavailable": "HTTP 503 (Retry-After: 120; not waited for)",
    "js-loop": "Timeout",
}


def test_the_demo_scan_with_the_hostile_web_finishes_and_reports_every_failure(tmp_path: Path) -> None:
    run = run_cli("demo", "run", "--hostile", home=tmp_path / "home", config=None, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    output = run.stdout + run.stderr

    summary = re.search(r"scan 1 finished: .* failures=(\d+)", output)
    assert summary, output[-3000:]
    reported = dict(re.findall(r"not captured: http://hostile\.test/([\w-]+): (.*)", output))
    for endpoint, reasons in EXPECTED_FAILURES.items():
        said = reported.get(endpoint, "")
        assert any(r in said for r in ([reasons] if isinstance(reasons, str) else reasons)), \
            f"/{endpoint}: {said or 'not reported'}"
    assert int(summary.group(1)) == output.count("not captured: ")  # every failure is listed
    assert "tangan-cure.test" in output  # the daily list of the ordinary demo sites is still printed
    assert "PharmWatch 每日简报" in output  # then the morning digest
    next_steps = re.search(r"Next steps for case (\d+) \(([\w.-]+), risk (\w+)\):", output)
    assert next_steps and next_steps.group(3) in ("critical", "high"), output[-2000:]
    assert f"case confirm {next_steps.group(1)} --reason" in output
    assert f"evidence export --case {next_steps.group(1)} -o case-{next_steps.group(1)}.wacz" in output
