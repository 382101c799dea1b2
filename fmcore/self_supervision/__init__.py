"""Self-supervision (slides: paradigms and pretext tasks): pseudolabels made from the data."""
