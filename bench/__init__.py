"""Benchmarks: each module ``bench_<name>.py`` exposes ``run(quick: bool) -> dict`` and runs against
the sandbox on loopback; ``python -m bench`` runs them all and prints a table plus a JSON file.
Figures are ratios measured side by side in one run (against the platform's limits and against a
naive client), so they hold on a noisy machine."""
