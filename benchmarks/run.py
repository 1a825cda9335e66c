"""``make bench``: the provider's speed against bare baselines, measured side by side.

Prints the machine, one table (medians over interleaved rounds; ratios against a baseline
measured in the same run) and the modules that dominate the import cost. Loopback only.
``BENCH_QUICK=1`` runs fewer rounds (a smoke test of the benchmark itself).
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.contexts
os.environ.update(
    {k: v for k, v in __import__("common").airflow_env().items() if k != "PYTHONPATH"}
)

import delivery
import imports
import sends
from common import Row, micro, milli, print_table, sandbox_process

QUICK = os.environ.get("BENCH_QUICK") == "1"
IMPORT_ROUNDS = 3 if QUICK else 15
SEND_ROUNDS = 3 if QUICK else 9
PER_ROUND = 50 if QUICK else 300
BIG_ROUNDS = 2 if QUICK else 5
ALERT_ROUNDS = 3 if QUICK else 9
ALERTS_PER_ROUND = 10 if QUICK else 60
IMPORT_GOAL_MS = 15.0
SEND_GOAL = 1.10
WAITS = 200 if QUICK else 1000
WAIT_ROUNDS = 1 if QUICK else 2
WAIT_GOAL = 2.0


def machine() -> str:
    """CPU count and model, Python and Airflow versions."""
    import airflow

    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"nproc {os.cpu_count()}, CPU {model}, Python {platform.python_version()}, "
        f"Airflow {airflow.__version__}, {platform.system()} {platform.release()}"
    )


def import_rows() -> tuple[list[Row], list[tuple[str, float, float]], float]:
    cost = imports.measure(IMPORT_ROUNDS)
    inside_ms = cost.inside.ours_median * 1e3
    low, high = (value * 1e3 for value in cost.wall.spread)
    rows = [
        Row(
            "import: provider after `import airflow.sdk`, timed inside a fresh interpreter",
            milli(cost.inside.ours_median),
            f"sdk {milli(cost.inside.base_median)}",
            f"+{inside_ms:.1f} ms ({cost.inside.ratio:.1%} of sdk)",
            f"<= {IMPORT_GOAL_MS:.0f} ms",
            inside_ms <= IMPORT_GOAL_MS,
        ),
        Row(
            "import wall: `python -c` sdk+provider vs sdk alone",
            milli(cost.wall.ours_median),
            milli(cost.wall.base_median),
            f"{cost.wall.difference * 1e3:+.1f} ms (IQR {low:+.0f}..{high:+.0f})",
            "(too noisy to judge)",
            None,
        ),
    ]
    return rows, imports.dominant_modules(3, 8), imports.provider_total(5)


def send_rows() -> list[Row]:
    rows = []
    with sandbox_process() as sandbox:
        one = sends.per_send(sandbox, rounds=SEND_ROUNDS, per_round=PER_ROUND)
        local = sends.local_work(sandbox, rounds=SEND_ROUNDS, per_round=PER_ROUND)
        with sends.info_logging():
            logged = sends.per_send(sandbox, rounds=SEND_ROUNDS, per_round=PER_ROUND)
        rows += [
            Row(
                "per send: EcallHook.send_sms vs Session.post",
                micro(one.ours_median),
                micro(one.base_median),
                f"{one.ratio:.3f}",
                f"<= {SEND_GOAL:.2f}",
                one.ratio <= SEND_GOAL,
            ),
            Row(
                "  the same with its INFO log line (stdlib handler to /dev/null)",
                micro(logged.ours_median),
                micro(logged.base_median),
                f"{logged.ratio:.3f}",
                "-",
                None,
            ),
            Row(
                "  of which local work (build, validate, plan, parse; no I/O)",
                micro(local),
                "-",
                f"{local / one.base_median:.3f} of a bare send",
                "-",
                None,
            ),
        ]
        for batch_size in (None, 1000):
            big = sends.big_send(sandbox, batch_size, rounds=BIG_ROUNDS)
            rows.append(
                Row(
                    f"10,000 recipients, batch {big.batch_size}: {big.requests} requests",
                    milli(big.timing.ours_median),
                    milli(big.timing.base_median),
                    f"{big.timing.ratio:.3f}",
                    "-",
                    None,
                )
            )
        alert = sends.notifier(sandbox, rounds=ALERT_ROUNDS, per_round=ALERTS_PER_ROUND)
        rows.append(
            Row(
                "failure notifier(context) vs one-shot requests.post",
                micro(alert.ours_median),
                micro(alert.base_median),
                f"{alert.ratio:.3f}",
                "-",
                None,
            )
        )
    return rows


def delivery_rows() -> list[Row]:
    """The shared poller against one poller per wait (medians over the rounds)."""
    import statistics

    pairs = delivery.measure(WAITS, WAIT_ROUNDS)

    def median(side: int, read: Callable[[delivery.WaitRun], float]) -> float:
        return statistics.median(read(pair[side]) for pair in pairs)

    def row(name: str, read: Callable[[delivery.WaitRun], float], unit: str) -> Row:
        ours, base = median(0, read), median(1, read)
        ratio = f"{ours / base:.3f}" if base else "-"
        return Row(name, f"{ours:,.{2 if ours < 10 else 1}f}{unit}", f"{base:,.1f}{unit}",
                   ratio, "-", None)  # fmt: skip

    rate = median(0, lambda run: run.per_interval)
    return [
        Row(
            f"{WAITS:,} waits in one process: Api/State requests per {delivery.INTERVAL:g} s "
            "interval, shared poller vs one per wait",
            f"{rate:.2f}",
            f"{median(1, lambda run: run.per_interval):,.1f}",
            f"{rate / median(1, lambda run: run.per_interval):.4f}",
            f"<= {WAIT_GOAL:g}",
            rate <= WAIT_GOAL,
        ),
        row("  Api/State requests in all, the whole wait", lambda r: r.state_requests, ""),
        row("  CPU of the waiting process (user + system)", lambda r: r.cpu, " s"),
        row("  peak memory growth of the waiting process", lambda r: r.rss_growth_mib, " MiB"),
        row(f"  wall until all {WAITS:,} events", lambda r: r.wall, " s"),
    ]


def main() -> int:
    # The provider's own work, without log formatting; the row "with its INFO log line"
    # re-enables the one line per send a task log gets.
    logging.disable(logging.INFO)
    print(f"machine: {machine()}", flush=True)
    print(
        f"rounds: import {IMPORT_ROUNDS} x 2 variants, per send {SEND_ROUNDS} x {PER_ROUND}, "
        f"10k {BIG_ROUNDS}, notifier {ALERT_ROUNDS} x {ALERTS_PER_ROUND}, "
        f"delivery waits {WAIT_ROUNDS} x {WAITS:,} per side "
        "(sends: each after one dropped warm-up round; A/B order alternates, for the delivery "
        "waits too)\n",
        flush=True,
    )
    rows, modules, provider_ms = import_rows()
    rows += send_rows()
    rows += delivery_rows()
    print_table(rows)
    print(f"\nprovider imports after airflow.sdk (-X importtime, cumulative): {provider_ms:.1f} ms")
    print("largest self times among them (median of 3, ms self / cumulative):")
    for name, own, total in modules:
        print(f"  {own:6.2f} / {total:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
