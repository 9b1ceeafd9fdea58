"""Benchmarks and budgets for Hub Desk: `python -m bench` (see bench/README.md).

Each module measures one thing against a baseline taken in the same run and prints a table;
nothing here is a test and nothing here asserts a time. All traffic stays on 127.0.0.1.
"""
