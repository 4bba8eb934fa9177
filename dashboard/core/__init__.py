"""The comparison core: derived quantities, QC, resampling, daily summaries and comparisons.

Pure pandas/numpy, no Dash imports, so the dashboard, the CLI and the benchmarks share one
implementation. Inputs follow one shape throughout (see `frames`): observations in long format with
`station`, a UTC `time` and wire-contract fields; station metadata indexed by station id.
"""
