"""A small PyTorch model for the backend tests (module level, so a pickled copy can be loaded back)."""

from __future__ import annotations

import torch


class Net(torch.nn.Module):
    """Conv 3x3 -> ReLU -> Linear on 1x8x8 inputs (the digits shape), 10 outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 10)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(input)).flatten(1))
