from __future__ import annotations

import torch

# Two cores here and in CI: keep intra-op threads from oversubscribing them.
torch.set_num_threads(2)
