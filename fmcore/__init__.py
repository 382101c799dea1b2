"""fmcore: the tested core of the foundation-models lab.

Plain PyTorch / NumPy / Pillow / Plotly; it never imports streamlit (rule 1 of DESIGN.md).
Importing this package is cheap: submodules that need torch import it themselves, so the
app's home page can start without paying for torch.
"""

__version__ = "0.1.0"
