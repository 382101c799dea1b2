"""Shared settings of the language-model tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The models here are tiny: on a busy two-core machine, syncing torch's threads cost
    ~8 ms per operation (the suite took 35 s instead of 5 s). One thread, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
