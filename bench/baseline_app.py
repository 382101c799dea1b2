"""Baseline for bench/startup.py: the plainest widget round trip Streamlit can do."""

import streamlit as st

value = st.slider("Value", 0, 100, 50)
st.title(f"Value {value}")
