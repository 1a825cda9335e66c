"""``make bench``: the provider's speed against bare baselines, measured side by side.

Prints the machine, one table (medians over interleaved rounds; ratios against a baseline
measured in the same run) and the modules that dominate the import cost. Loopback only.
``BENCH_QUICK=1`` runs fewer rounds (a smoke test of the benchmark itself);
``BENCH_ONLY=delivery`` (or ``import``, ``send``, ``callback``, comma-separated) runs only
those rows — ``BENCH_ONLY=delivery make bench`` is the delivery waits alone (~9 min).
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.contexts
os.environ.update(
    {k: v for k, v in __import__("common").airflow_env().items() if k != "PYTHONPATH"}
)

import callbacks
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
#: Concurrent delivery waits and the goal in Api/State queries per interval at each size.
WAIT_SIZES = ((200, 2.0),) if QUICK else ((1000, 2.0), (10_000, 10.0))
if QUICK:
    delivery.SPREAD, delivery.DELAY = 10.0, 10.0
CALLBACK_LEVELS = (100, 2_000, 10_000)
CALLBACK_ROUNDS = 5 if QUICK else 30
CALLBACK_GOAL = 2.0
SECTIONS = ("import", "send", "delivery", "callback")
ONLY = [s.strip() for s in os.environ.get("BENCH_ONLY", ",".join(SECTIONS)).split(",") if s]


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
    previous = statistics.median(cost.previous)
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
            f"  the same beside the previous release ({imports.PREVIOUS}, as baseline)",
            milli(cost.inside.ours_median),
            f"previous {milli(previous)}",
            f"{cost.inside.ours_median / previous:.2f}",
            "-",
            None,
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


def _wait_row(
    runs: dict[str, delivery.WaitRun],
    name: str,
    read: Callable[[delivery.WaitRun], float],
    unit: str = "",
    goal: tuple[str, bool | None] = ("-", None),
) -> Row:
    """One delivery-wait figure: the planner's, today's halving's and one poller per wait's."""
    mine, base, per_wait = (read(runs[side]) for side in delivery.SIDES)
    return Row(
        name,
        f"{mine:,.{2 if abs(mine) < 10 else 1}f}{unit}",
        f"halving {base:,.1f}{unit}; per wait {per_wait:,.1f}{unit}",
        f"{mine / base:.3f}" if base else "-",
        *goal,
    )


def delivery_rows() -> list[Row]:
    """The shared poller's planner against today's halving and one poller per wait, at each
    size (one run per side; queries and refusals are counts, not timings)."""
    rows: list[Row] = []
    for waits, goal in WAIT_SIZES:
        runs = delivery.measure(waits)
        ours = runs["planner"]
        rows += [
            _wait_row(
                runs,
                f"{waits:,} waits, sent over {delivery.SPREAD:g} s, delivered "
                f"{delivery.DELAY:g} s later: Api/State queries per {delivery.INTERVAL:g} s",
                lambda r: r.per_interval,
                goal=(f"<= {goal:g}", ours.per_interval <= goal),
            ),
            _wait_row(runs, "  of which eCall refused (11701), in all", lambda r: r.refused),
            _wait_row(
                runs,
                "    in steady state (every wait joined, no more sends)",
                lambda r: r.refused_steady,
                goal=("0", ours.refused_steady == 0),
            ),
            _wait_row(
                runs,
                "    during the ramp (sends arriving, waits joining)",
                lambda r: r.refused_ramp,
            ),
            _wait_row(runs, "  Api/State queries in all", lambda r: r.state_requests),
            _wait_row(runs, "  CPU of the waiting process (user + system)", lambda r: r.cpu, " s"),
            _wait_row(
                runs,
                "  peak memory growth of the waiting process",
                lambda r: r.rss_growth_mib,
                " MiB",
            ),
            _wait_row(
                runs, "  last event after the last delivery", lambda r: r.after_delivery, " s"
            ),
        ]
        wrong = {s: r.events for s, r in runs.items() if r.events != {"delivered": waits}}
        if wrong:
            print(f"delivery waits ended otherwise than delivered: {wrong}", flush=True)
    return rows


def callback_rows() -> list[Row]:
    """Callback latency at 100, 2,000 and 10,000 deferred waits; the ratio against 100."""
    levels = callbacks.measure(CALLBACK_LEVELS, CALLBACK_ROUNDS)
    base = levels[0].median
    rows = []
    for level in levels:
        ratio = level.median / base
        judged = level.waits == CALLBACK_LEVELS[-1]
        rows.append(
            Row(
                f"callback (delivery, resumes one wait), {level.waits:,} deferred waits",
                milli(level.median),
                f"{CALLBACK_LEVELS[0]:,} waits {milli(base)}",
                f"{ratio:.3f}",
                f"<= {CALLBACK_GOAL:g}" if judged else "-",
                ratio <= CALLBACK_GOAL if judged else None,
            )
        )
        rows.append(
            Row(
                "  first callback after the new waits (decodes each new row once)",
                milli(level.first),
                "-",
                "-",
                "-",
                None,
            )
        )
    return rows


def main() -> int:
    # The provider's own work, without log formatting; the row "with its INFO log line"
    # re-enables the one line per send a task log gets.
    logging.disable(logging.INFO)
    print(f"machine: {machine()}", flush=True)
    print(
        f"rounds: import {IMPORT_ROUNDS} x 3 variants, per send {SEND_ROUNDS} x {PER_ROUND}, "
        f"10k {BIG_ROUNDS}, notifier {ALERT_ROUNDS} x {ALERTS_PER_ROUND}, "
        f"delivery waits 1 x {' and '.join(f'{n:,}' for n, _ in WAIT_SIZES)} per side, "
        f"callbacks {CALLBACK_ROUNDS} per level "
        "(sends: each after one dropped warm-up round; A/B order alternates)",
        flush=True,
    )
    chosen = f"rows: {', '.join(ONLY)} (BENCH_ONLY)\n" if set(ONLY) != set(SECTIONS) else ""
    print(chosen, flush=True)
    unknown = sorted(set(ONLY) - set(SECTIONS))
    if unknown:
        print(f"BENCH_ONLY: unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
        return 2
    rows: list[Row] = []
    modules: list[tuple[str, float, float]] = []
    provider_ms = 0.0
    if "import" in ONLY:
        rows, modules, provider_ms = import_rows()
    if "send" in ONLY:
        rows += send_rows()
    if "delivery" in ONLY:
        rows += delivery_rows()
    if "callback" in ONLY:
        rows += callback_rows()
    print_table(rows)
    if "import" in ONLY:
        cost = f"{provider_ms:.1f} ms"
        print(f"\nprovider imports after airflow.sdk (-X importtime, cumulative): {cost}")
        print("largest self times among them (median of 3, ms self / cumulative):")
        for name, own, total in modules:
            print(f"  {own:6.2f} / {total:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
