"""Language models of Section 14.3 of the notes: a character tokenizer, a tiny decoder-only
Transformer, temperature / top-k / top-p sampling and the scoring of a text by the chain rule.

Submodules import torch themselves; importing this package alone stays cheap.
"""
