"""Adaptation (notes 14.1): linear probes, finetuning and training from scratch."""
