import json


def figures(at):
    """{title: figure dict} of every Plotly chart on the page."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def figure(at, title_start):
    matches = [f for t, f in figures(at).items() if t.startswith(title_start)]
    assert len(matches) == 1, list(figures(at))
    return matches[0]


def no_nan(value):
    """True when no number inside a JSON-like value is NaN or infinite."""
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, dict):
        return all(no_nan(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nan(v) for v in value)
    return value not in ("NaN", "Infinity", "-Infinity")


def frame(at, column):
    """The first st.dataframe of the page with this column (chart table views have others)."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a column {column!r}")
