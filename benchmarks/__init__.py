"""clinic-desk benchmarks: `python -m benchmarks [--quick] [--backend sqlite|postgresql|both] [--only NAME]`.

Not tests: each row times the real code path against a raw limit or a peer program measured in
the same run, prints a Rich table and writes ``benchmarks/results/latest.json`` (the rows) and
``benchmarks/results/latest-machine.json`` (the machine and the run). Kept import-light: the TUI
probe child processes import this package too.
"""
