"""Class mode under a hostile script: the probes of issue 18 (tests/class_probes.py) against the real app
(`python app.py` with the proxy trusted, as on a Space). `python -m bench.class_attack` runs them all and writes
bench/results/class_attack.{json,md} (`--out NAME` for another name, `--cwd DIR` to probe another checkout, e.g.
the code before the fixes).
"""

from __future__ import annotations

import argparse
import json
import tempfile

from tests.class_probes import (
    PROXY_ENV,
    Classroom,
    config_paths,
    creations,
    eviction,
    flood,
    forged_guesses,
    gate,
    hash_,
    heartbeat_eviction,
    lockout,
    noise_ink,
    queue_fill,
    rotating_guesses,
    uploads,
    uploads_in_one_request,
    via,
)
from tests.harness import ROOT, Script, load_average, serve_subprocess, write_results


def run_all(url: str) -> dict:
    script = Script(url)
    room = Classroom(script)
    teacher = hash_()
    script.page_load(teacher, via("192.0.2.1"))
    _, code, key = room.create(teacher, via("192.0.2.1"), "class A")
    _, code_b, key_b = room.create(teacher, via("192.0.2.1"), "class B")
    results = {"load_average_before": load_average()}
    results["config"] = config_paths(script)
    results["gate"] = gate(room, code, key)
    results["uploads"] = uploads(room)
    results["uploads_in_one_request"] = uploads_in_one_request(room)
    results["queue_fill"] = queue_fill(room)
    results["forged_guesses"] = forged_guesses(room)
    results["lockout"] = lockout(room, code)
    results["creations_forged"] = creations(room, 40)
    results["eviction"] = eviction(room, code)
    results["eviction_rotating_real"] = eviction(room, code, rotate_real=True)
    results["eviction_rotating_real_520"] = eviction(room, code, loads=520, rotate_real=True)
    results["heartbeat_eviction"] = heartbeat_eviction(room, code)
    results["noise_ink"] = noise_ink(room, code_b)
    results["flood"] = flood(room, code_b)
    # Last: a script rotating real addresses spends everyone's budgets (new addresses then wait, by design)
    results["rotating_guesses"] = rotating_guesses(room)
    results["creations_rotating_real"] = creations(room, 150, rotate_real=True)
    results["load_average_after"] = load_average()
    return results


def markdown(results: dict) -> str:
    lines = ["# Class mode under a hostile script (issue 18 probes)", "",
             "Each probe against `python app.py` with `MNIST_DEMO_TRUST_PROXY=1`, through /gradio_api by event number.",
             "", "| probe | figures |", "|---|---|"]
    for name, value in results.items():
        if isinstance(value, dict):
            lines.append(f"| {name} | {json.dumps(value, ensure_ascii=False)} |")
    lines.append("")
    lines.append(f"Load average before {results.get('load_average_before')}, after {results.get('load_average_after')}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="class_attack")
    parser.add_argument("--cwd", default=str(ROOT), help="the checkout whose app.py is probed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mnist-demo-probe-") as state:
        app = serve_subprocess(cwd=args.cwd, env={**PROXY_ENV, "MNIST_DEMO_STATE": state}, timeout_s=240)
        try:
            results = run_all(app.url)
        finally:
            app.stop()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(write_results(args.out, results, markdown(results)))


if __name__ == "__main__":
    main()
