"""Prompting (notes 14.3.1): the few-shot task family, prompts and in-context learning."""
