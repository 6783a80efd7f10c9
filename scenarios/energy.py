"""A user's own objective, referenced from custom_objective.toml as "energy:inference_energy".

A simple energy model for one inference: arithmetic energy per multiply-add plus the energy
to read every weight once from DRAM. The constants are illustrative 45 nm figures
(Horowitz, ISSCC 2014): 4.6 pJ per 32-bit float multiply-add, 640 pJ per 32-bit DRAM read.
"""

from __future__ import annotations

from evonas.model import count_params
from evonas.objectives import EvalContext, Flops, objective

PJ_PER_MAC = 4.6
PJ_PER_WEIGHT_READ = 640.0


@objective(name="energy_uj", direction="min", cheap=True, unit="uJ", bounds=(1e-1, 1e5),
           log_scale=True)
def inference_energy(ctx: EvalContext) -> float:
    """Estimated energy of one forward pass, in microjoules."""
    macs = Flops()(ctx) / 2  # the FLOP counter counts a multiply-add as 2 FLOPs
    weights = count_params(ctx.genome, ctx.input_shape, ctx.num_classes)
    return (macs * PJ_PER_MAC + weights * PJ_PER_WEIGHT_READ) * 1e-6
