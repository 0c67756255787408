"""descent.optim.lr_scheduler: torch.optim.lr_scheduler's schedulers, on descent's schedules.

Each scheduler sets every parameter group's "lr" from descent's closed-form
schedule of the step count k (k = 0 at construction, +1 per step()), so that
get_last_lr() after k calls of step() is torch's (torch 1.13), except past the
end of a finite schedule, where descent holds the final value. They work with
descent.optim's optimizers and with descent.torch's (any object with
param_groups).

    sched = SequentialLR(opt, [LinearLR(opt, start_factor=0.1, total_iters=500),
                               CosineAnnealingLR(opt, T_max=9500)], milestones=[500])
"""

from .. import _core

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "InverseTimeLR", "PolynomialLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "LinearLR", "SequentialLR", "ScheduleLR",
    "ReduceLROnPlateau",
]


class LRScheduler:
    """A schedule of the step count applied to each group's initial lr."""

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(optimizer).__name__} is not an optimizer (it has no param_groups)")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an "
                                   "optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def _lr(self, base_lr, k):
        raise NotImplementedError

    def get_last_lr(self):
        return list(self._last_lr)

    def step(self, epoch=None):
        if epoch is not None:
            raise TypeError("step(epoch) is deprecated in torch and not taken here; call step() once per step")
        self.last_epoch += 1
        self._last_lr = [self._lr_at(i, base, self.last_epoch) for i, base in enumerate(self.base_lrs)]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _lr_at(self, group, base_lr, k):
        return self._lr(base_lr, k)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedule", "_parts")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class ScheduleLR(LRScheduler):
    """A descent schedule: a _core.Schedule or a command-line spec such as
    "warmup:500+cosine:10000" (docs/cli.md)."""

    def __init__(self, optimizer, schedule, last_epoch=-1):
        self._schedule = _core.Schedule.parse(schedule) if isinstance(schedule, str) else schedule
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, k):
        return self._schedule.lr(base_lr, k)

    def describe(self):
        return self._schedule.describe()


class LambdaLR(LRScheduler):
    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(self.lr_lambdas) != n:
            raise ValueError(f"expected {n} lr_lambdas, but got {len(self.lr_lambdas)}")
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, group, base_lr, k):
        return base_lr * self.lr_lambdas[group](k)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}


def _schedule_class(name, doc, make):
    def __init__(self, optimizer, *args, last_epoch=-1, **kwargs):
        ScheduleLR.__init__(self, optimizer, make(*args, **kwargs), last_epoch)

    return type(name, (ScheduleLR,), {"__init__": __init__, "__doc__": doc})


StepLR = _schedule_class("StepLR", "lr = base * gamma ** (k // step_size)",
                         lambda step_size, gamma=0.1: _core.Schedule.step(int(step_size), float(gamma)))
MultiStepLR = _schedule_class("MultiStepLR", "lr = base * gamma ** (number of milestones <= k)",
                              lambda milestones, gamma=0.1: _core.Schedule.multistep(sorted(int(m) for m in milestones),
                                                                                     float(gamma)))
ExponentialLR = _schedule_class("ExponentialLR", "lr = base * gamma ** k",
                                lambda gamma: _core.Schedule.exponential(float(gamma)))
InverseTimeLR = _schedule_class("InverseTimeLR", "lr = base / (1 + decay * k) (descent's; torch needs LambdaLR)",
                                lambda decay: _core.Schedule.inverse_time(float(decay)))
PolynomialLR = _schedule_class("PolynomialLR", "lr = base * (1 - min(k, total_iters) / total_iters) ** power",
                               lambda total_iters=5, power=1.0: _core.Schedule.polynomial(int(total_iters),
                                                                                         float(power)))
CosineAnnealingLR = _schedule_class("CosineAnnealingLR", "cosine from base to eta_min over T_max steps, then held",
                                    lambda T_max, eta_min=0.0: _core.Schedule.cosine(int(T_max), float(eta_min)))
CosineAnnealingWarmRestarts = _schedule_class(
    "CosineAnnealingWarmRestarts", "cosine over periods T_0, T_0 T_mult, ..., restarting at base",
    lambda T_0, T_mult=1, eta_min=0.0: _core.Schedule.cosine_restarts(int(T_0), int(T_mult), float(eta_min)))


def _linear(start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    if end_factor != 1.0:
        raise ValueError("LinearLR: descent's warm-up ends at the base rate (end_factor=1.0); "
                         f"got end_factor={end_factor}")
    return _core.Schedule.constant().with_warmup(int(total_iters), float(start_factor))


LinearLR = _schedule_class("LinearLR", "a linear warm-up from start_factor * base to base over total_iters steps",
                           _linear)


class OneCycleLR(ScheduleLR):
    """Up from max_lr / div_factor to max_lr over pct_start of the steps, then
    down to max_lr / div_factor / final_div_factor, both halves cosine. Sets
    each group's lr from max_lr, as torch does."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if anneal_strategy != "cos":
            raise ValueError("OneCycleLR: descent anneals by cosine only (anneal_strategy='cos')")
        if three_phase:
            raise ValueError("OneCycleLR: three_phase=True is not offered")
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
            total_steps = int(epochs) * int(steps_per_epoch)
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if last_epoch == -1:
            for group, m in zip(groups, max_lrs):
                group["initial_lr"] = m
                group["lr"] = m
        schedule = _core.Schedule.one_cycle(int(total_steps), float(pct_start), float(div_factor),
                                            float(final_div_factor))
        super().__init__(optimizer, schedule, last_epoch)


class SequentialLR(LRScheduler):
    """A warm-up (LinearLR) followed by another scheduler at milestones=[W],
    W the warm-up's total_iters: the second runs from its own step 0 at W."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) != 2 or len(milestones) != 1 or not isinstance(schedulers[0], LinearLR) or \
                not isinstance(schedulers[1], LRScheduler):
            raise ValueError("SequentialLR: descent takes [LinearLR(...), another scheduler] with one milestone, "
                             "a warm-up followed by the schedule")
        warm = schedulers[0]._schedule
        if int(milestones[0]) != warm.warmup_steps:
            raise ValueError(f"SequentialLR: the milestone ({milestones[0]}) must equal the warm-up's total_iters "
                             f"({warm.warmup_steps})")
        self._parts = schedulers
        self._warmup = warm.warmup_steps
        # the children set lr when they were made; start again from the base
        for group, base in zip(optimizer.param_groups, schedulers[0].base_lrs):
            group["lr"] = base
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, group, base_lr, k):
        if k < self._warmup:
            return self._parts[0]._lr(base_lr, k)
        return self._parts[1]._lr_at(group, base_lr, k - self._warmup)


class ReduceLROnPlateau:
    """Multiplies each group's lr by factor once the metric passed to
    step(metric) has not improved for more than patience steps."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8, verbose=False):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        if len(min_lrs) != len(groups):
            raise ValueError(f"expected {len(groups)} min_lrs, got {len(min_lrs)}")
        self._plateaus = [_core.ReduceOnPlateau(float(g["lr"]), mode, float(factor), int(patience), float(threshold),
                                                threshold_mode, int(cooldown), float(m), float(eps))
                          for g, m in zip(groups, min_lrs)]
        self.verbose = verbose
        self._last_lr = [g["lr"] for g in groups]

    def step(self, metrics):
        metric = float(metrics)
        for i, (group, plateau) in enumerate(zip(self.optimizer.param_groups, self._plateaus)):
            if plateau.report(metric) and self.verbose:
                print(f"Reducing learning rate of group {i} to {plateau.lr:.4e}.")
            group["lr"] = plateau.lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    @property
    def num_bad_epochs(self):
        return self._plateaus[0].state()["bad_reports"]

    def state_dict(self):
        return {"plateaus": [p.state() for p in self._plateaus], "_last_lr": list(self._last_lr)}

    def load_state_dict(self, state_dict):
        plateaus = state_dict["plateaus"]
        if len(plateaus) != len(self._plateaus):
            raise ValueError(f"the state has {len(plateaus)} groups; this scheduler has {len(self._plateaus)}")
        for p, s in zip(self._plateaus, plateaus):
            p.restore(s)
        self._last_lr = list(state_dict["_last_lr"])

