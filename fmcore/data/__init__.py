"""Datasets: procedural data generated on the spot, shipped assets, and user uploads."""
