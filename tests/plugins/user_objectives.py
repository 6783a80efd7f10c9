"""A user's own objectives, as they would live in a package of theirs (used by the tests)."""

from __future__ import annotations

from evonas.objectives import EvalContext, Objective, objective


@objective(direction="min", cheap=True)
def conv_count(ctx: EvalContext) -> float:
    return float(sum(n.op in ("conv", "sep_conv") for n in ctx.genome.nodes))


def plain_depth(ctx: EvalContext) -> float:
    """An undecorated function: minimised, computed after training."""
    return float(len(ctx.genome.nodes))


class LatencyBudgetPenalty(Objective):
    """Validation error plus a penalty per FLOP over a budget."""

    name = "penalised_error"
    direction = "min"

    def __init__(self, *, budget_flops: float = 1e6, weight: float = 1e-7) -> None:
        self.budget_flops = budget_flops
        self.weight = weight

    def __call__(self, ctx: EvalContext) -> float:
        from evonas.objectives import Flops

        assert ctx.train is not None
        excess = max(0.0, Flops()(ctx) - self.budget_flops)
        return ctx.train.val_error + self.weight * excess
