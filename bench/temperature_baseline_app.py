"""Baseline for bench/temperature.py: the naive way, a Streamlit slider whose every move
reruns the script and redraws the bars of softmax(u / tau) on the server."""

import math

import plotly.graph_objects as go
import streamlit as st

LOGITS = [3.0, 2.2, 1.9, 1.2, 0.8, 0.5, 0.1, -0.4, -1.0, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0]

st.title("The naive way: a rerun per move")
tau = st.slider("Temperature", 0.05, 3.0, 1.0, step=0.05)
weights = [math.exp((u - max(LOGITS)) / tau) for u in LOGITS]
probs = [w / sum(weights) for w in weights]
fig = go.Figure(go.Bar(x=[f"c{i}" for i in range(len(probs))], y=probs))
fig.update_layout(title=f"τ = {tau:.2f}", yaxis={"range": [0, 1]})
st.plotly_chart(fig, theme=None)
