"""Streamlit-only helpers shared by the pages (fmcore never imports these)."""
