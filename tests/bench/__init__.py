"""Benchmarks: `make bench` prints figures and keeps them under .maca/bench/.

Never part of `make test`: these machines are shared and noisy, so speed is
reported, compared as ratios within one run, and never asserted.
"""
