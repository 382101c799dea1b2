"""Language models of Section 14.3 of the notes: a character tokenizer, a tiny decoder-only
Transformer, temperature / top-k / top-p sampling, the scoring of a text by the chain rule,
training on a text (``train``: Eq. 14.8, a generator of events) and generation token by
token with the KV cache (``generate``: Eq. 14.9-14.16).

Submodules import torch themselves; importing this package alone stays cheap.
"""
