"""descent.optim: torch.optim's optimizers on numpy arrays, run by descent's steppers.

    import numpy as np, descent.optim as optim
    w = np.zeros((10, 784), dtype=np.float32); b = np.zeros(10, dtype=np.float32)
    opt = optim.Adam([w, {"params": [b], "weight_decay": 0}], lr=1e-3, weight_decay=1e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    for step in range(1000):
        gw, gb = gradients(w, b)
        opt.step([gw, gb])          # w and b are updated in place
        sched.step()

Each parameter group is one descent stepper: one fused pass over the group's
parameters per step, with the update rule, weight decay and the optional
clipping (clip_norm, clip_value) and L1 (l1) inside that pass. When the
group's arrays are consecutive pieces of one buffer (flat_buffer() hands such
arrays out) nothing is copied; otherwise the step gathers the values, runs the
pass and writes them back.

Differences from torch.optim, all deliberate and documented in docs/python.md:
  - step() takes the gradients (numpy has no .grad); closure is not taken;
  - state_dict()["state"] holds one entry per parameter group (the flat
    state of its stepper), not one per parameter;
  - maximize=True, capturable and differentiable are refused; foreach and
    fused are accepted and ignored (descent's pass is always fused).
"""

import copy
import inspect
import math

import numpy as np

from .. import _core

__all__ = [
    "Optimizer", "Stepper", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
    "Lion", "Adafactor", "ScheduleFreeSGD", "ScheduleFreeAdamW", "Prodigy", "Muon", "flat_buffer", "stepper_names",
    "lr_scheduler",
]

# Keys of a parameter group that are not hyper-parameters of the method.
_GROUP_KEYS = {"params", "lr", "initial_lr", "clip_norm", "clip_value", "l1"}
_IGNORED = {"foreach", "fused"}


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def flat_buffer(shapes, dtype=np.float32):
    """Zeroed arrays of these shapes that are consecutive pieces of one buffer,
    so that an optimizer over them steps with no copy. Returns (buffer, arrays)."""
    shapes = [tuple(s) if np.iterable(s) else (int(s),) for s in shapes]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    buffer = np.zeros(sum(sizes), dtype=dtype)
    arrays, offset = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(buffer[offset:offset + size].reshape(shape))
        offset += size
    return buffer, arrays


def _stepper_type(params):
    dtypes = {p.dtype for p in params}
    if len(dtypes) != 1:
        raise TypeError(f"the parameters of one group have several dtypes ({', '.join(sorted(map(str, dtypes)))}); "
                        "put each dtype in its own parameter group")
    dtype = dtypes.pop()
    if dtype == np.float64:
        return _core.Stepper_f64
    if dtype == np.float32:
        return _core.Stepper_f32
    raise TypeError(f"parameters must be float32 or float64 arrays; got {dtype}")


def _as_group_list(params):
    if isinstance(params, np.ndarray):
        return [{"params": [params]}]
    params = list(params)
    if not params:
        raise ValueError("the optimizer got an empty parameter list")
    if all(isinstance(p, dict) for p in params):
        return [dict(g) for g in params]
    if any(isinstance(p, dict) for p in params):
        raise TypeError("params must be arrays or parameter groups (dicts), not a mixture")
    return [{"params": params}]


def _check_defaults(defaults):
    """Refuses torch.optim's flags descent does not honour; drops those it ignores."""
    for key in ("maximize", "capturable", "differentiable"):
        if defaults.pop(key, False):
            raise ValueError(f"{key}=True is not supported by descent's optimizers"
                             + ("; minimize the negated objective instead" if key == "maximize" else ""))
    for key in _IGNORED:
        defaults.pop(key, None)
    return defaults


def _settings(group):
    """What a group's stepper is built from, besides its parameters and lr."""
    return {k: v for k, v in group.items() if k not in ("params", "lr", "initial_lr")}


def _build(cls, group, arrays):
    """The stepper of one group (arrays: its parameters as numpy arrays)."""
    lr = group["lr"]
    if lr is required:
        raise ValueError("lr is required")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
        raise ValueError(f"lr must be a finite number >= 0; got {lr!r}")
    method, hp = cls._translate(group)
    hp = {k: float(v) for k, v in hp.items() if v is not None}
    return _stepper_type(arrays)(method, arrays, hp, float(group.get("clip_norm", 0)),
                                 float(group.get("clip_value", 0)), float(group.get("l1", 0)))


def _rebuilt(cls, old, group, arrays, index):
    """A stepper for group's changed settings (weight_decay, betas, ...) that
    carries the old one's state."""
    new = _build(cls, group, arrays)
    try:
        new.load_state(old.state())
    except (KeyError, ValueError) as e:
        raise ValueError(f"parameter group {index}: the change of settings turns {old.name} into {new.name}, "
                         f"whose state differs ({e}); make a new optimizer") from None
    return new


def _pack(param_groups, steppers):
    groups, index = [], 0
    for g in param_groups:
        entry = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
        entry["params"] = list(range(index, index + len(g["params"])))
        index += len(g["params"])
        groups.append(entry)
    state = {i: dict(s.state(), method=s.name) for i, s in enumerate(steppers)}
    return {"state": state, "param_groups": groups}


def _unpack(cls, state_dict, param_groups, arrays):
    """The steppers and group settings of a saved state, all checked before
    the caller changes anything."""
    groups = state_dict["param_groups"]
    if len(groups) != len(param_groups):
        raise ValueError(f"the state has {len(groups)} parameter groups; this optimizer has {len(param_groups)}")
    settings, steppers = [], []
    for i, (saved, group) in enumerate(zip(groups, param_groups)):
        if len(saved["params"]) != len(group["params"]):
            raise ValueError(f"parameter group {i} has {len(saved['params'])} parameters in the state and "
                             f"{len(group['params'])} here")
        g = dict(group)
        g.update({k: v for k, v in saved.items() if k != "params"})
        s = _build(cls, g, arrays[i])
        state = dict(state_dict["state"][i])
        method = state.pop("method", s.name)
        if method != s.name:
            raise ValueError(f"parameter group {i}: the state is of {method}; this optimizer runs {s.name}")
        s.load_state(state)
        settings.append({k: v for k, v in g.items() if k != "params"})
        steppers.append(s)
    return settings, steppers


class Optimizer:
    """The base of descent.optim's optimizers: param_groups as in torch.optim,
    one descent stepper per group.

    A subclass gives _defaults(*args, **kwargs), which takes the
    constructor's arguments (torch's names and defaults) and returns the
    defaults of a group, and _translate(group), which returns descent's
    method name and hyper-parameters for a group. descent.torch's optimizers
    reuse both."""

    def __init__(self, params, *args, **kwargs):
        self.defaults = _check_defaults(self._defaults(*args, **kwargs))
        self.param_groups = []
        self._steppers = []
        self._built_with = []
        for group in _as_group_list(params):
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_defaults" in cls.__dict__:  # help(descent.optim.Adam) shows torch's signature
            sig = inspect.signature(cls._defaults)
            params = [inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + list(sig.parameters.values())
            cls.__signature__ = sig.replace(parameters=params)

    # --- groups -----------------------------------------------------------

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, np.ndarray) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray):
                raise TypeError(f"params[{i}] is a {type(p).__name__}; descent.optim updates numpy arrays in place "
                                "(descent.torch takes torch tensors)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            if value is required and key not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {key}")
            group.setdefault(key, value)
        _check_defaults(group)
        self._steppers.append(_build(type(self), group, params))
        self.param_groups.append(group)
        self._built_with.append(_settings(group))

    # --- stepping ----------------------------------------------------------

    def _grads_per_group(self, grads):
        counts = [len(g["params"]) for g in self.param_groups]
        if isinstance(grads, np.ndarray) or not np.iterable(grads):
            if counts != [1]:
                raise ValueError(f"step got one gradient array; the optimizer has {sum(counts)} parameters")
            return [[grads]]
        grads = list(grads)
        if len(grads) != sum(counts):
            raise ValueError(f"step got {len(grads)} gradients; the optimizer has {sum(counts)} parameters")
        out, start = [], 0
        for c in counts:
            out.append(grads[start:start + c])
            start += c
        return out

    def step(self, grads):
        """One update of every parameter, in place, from its gradient: grads is
        an array (for a single parameter) or a list in the order of the
        parameters (group after group)."""
        for i, (group, g) in enumerate(zip(self.param_groups, self._grads_per_group(grads))):
            settings = _settings(group)
            if settings != self._built_with[i]:
                self._steppers[i] = _rebuilt(type(self), self._steppers[i], group, group["params"], i)
                self._built_with[i] = settings
            self._steppers[i].step(group["params"], g, float(group["lr"]))

    def zero_grad(self, set_to_none=None):
        """Nothing to do: descent.optim takes the gradients in step()."""

    def evaluation_point(self):
        """The parameters to evaluate or save the model at, as new arrays in
        the order of the parameters: the averaged iterate for the
        schedule-free methods, a copy of the parameters otherwise."""
        return [a for g, s in zip(self.param_groups, self._steppers) for a in s.evaluation_point(g["params"])]

    @property
    def method(self):
        """descent's name for the method of the first group ("adam", ...)."""
        return self._steppers[0].name

    @property
    def hyperparameters(self):
        """Every hyper-parameter of each group's stepper, given or default."""
        return [s.hyperparameters for s in self._steppers]

    # --- saving -------------------------------------------------------------

    def state_dict(self):
        """{"state": {group index: the stepper's state}, "param_groups": [...]},
        plain numpy arrays and numbers (pickle or np.savez it)."""
        return _pack(self.param_groups, self._steppers)

    def load_state_dict(self, state_dict):
        settings, steppers = _unpack(type(self), state_dict, self.param_groups,
                                     [g["params"] for g in self.param_groups])
        for group, s in zip(self.param_groups, settings):
            group.update(s)
        self._steppers = steppers
        self._built_with = [_settings(g) for g in self.param_groups]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in g if k != "params"):
                lines.append(f"    {key}: {g[key]}")
        return "\n".join(lines) + "\n)"


def _pick(group, *keys):
    return {k: group[k] for k in keys}


def _betas(group):
    b1, b2 = group["betas"]
    return {"beta1": b1, "beta2": b2}


_EXTRAS = dict(clip_norm=0.0, clip_value=0.0, l1=0.0)


class Stepper(Optimizer):
    """Any descent stepper by its own name, Stepper(params, "schedule-free-adamw",
    lr=...), with descent's hyper-parameter names (beta1, beta2, lookahead_k,
    ...); see stepper_names()."""

    @classmethod
    def _defaults(cls, method, lr=required, *, clip_norm=0.0, clip_value=0.0, l1=0.0, **hyperparameters):
        return dict(method=method, lr=lr, clip_norm=clip_norm, clip_value=clip_value, l1=l1, **hyperparameters)

    @staticmethod
    def _translate(group):
        return group["method"], {k: v for k, v in group.items() if k not in _GROUP_KEYS and k != "method"}


def stepper_names():
    """Every descent stepper's name, for Stepper(params, name, ...)."""
    return list(_core.stepper_names())


class SGD(Optimizer):
    @classmethod
    def _defaults(cls, lr=required, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                  foreach=None, differentiable=False, clip_norm=0.0, clip_value=0.0, l1=0.0):
        d = dict(locals())
        del d["cls"]
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        return d

    @staticmethod
    def _translate(group):
        hp = _pick(group, "momentum", "dampening", "weight_decay")
        if group["nesterov"]:
            return "nesterov", hp
        return ("momentum" if group["momentum"] else "sgd"), hp


def _torch_like(name, defaults, translate, doc):
    """A class whose constructor takes torch.optim's arguments (defaults is a
    function with that signature returning the group defaults)."""
    return type(name, (Optimizer,), {"_defaults": classmethod(defaults), "_translate": staticmethod(translate),
                                     "__doc__": doc})


def _locals(d):
    d = dict(d)
    d.pop("cls", None)
    return d


def _adagrad(cls, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *,
             maximize=False, differentiable=False, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _rmsprop(cls, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, foreach=None,
             maximize=False, differentiable=False, *, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _adadelta(cls, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, maximize=False,
              differentiable=False, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _adam(cls, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
          maximize=False, capturable=False, differentiable=False, fused=None, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _adamw(cls, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False,
           foreach=None, capturable=False, differentiable=False, fused=None, clip_norm=0.0, clip_value=0.0, l1=0.0):
    if amsgrad:
        raise ValueError("AdamW(amsgrad=True) is not offered; use Adam(amsgrad=True) (coupled weight decay) "
                         "or AdamW without amsgrad")
    return _locals(locals())


def _adamax(cls, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False,
            differentiable=False, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _nadam(cls, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3, foreach=None, *,
           differentiable=False, clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _radam(cls, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, differentiable=False,
           clip_norm=0.0, clip_value=0.0, l1=0.0):
    return _locals(locals())


def _adam_family(name, extra=()):
    return lambda g: (name, dict(_betas(g), eps=g["eps"], weight_decay=g["weight_decay"], **_pick(g, *extra)))


Adagrad = _torch_like("Adagrad", _adagrad,
                      lambda g: ("adagrad", _pick(g, "lr_decay", "weight_decay", "initial_accumulator_value", "eps")),
                      "Adagrad, as torch.optim.Adagrad.")
RMSprop = _torch_like("RMSprop", _rmsprop,
                      lambda g: ("rmsprop-centered" if g["centered"] else "rmsprop",
                                 _pick(g, "alpha", "eps", "weight_decay", "momentum")),
                      "RMSprop (and centered), as torch.optim.RMSprop.")
Adadelta = _torch_like("Adadelta", _adadelta,
                       lambda g: ("adadelta", _pick(g, "rho", "eps", "weight_decay")),
                       "Adadelta, as torch.optim.Adadelta.")
Adam = _torch_like("Adam", _adam,
                   lambda g: _adam_family("amsgrad" if g["amsgrad"] else "adam")(g),
                   "Adam (and AMSGrad), as torch.optim.Adam; weight_decay is coupled (L2).")
AdamW = _torch_like("AdamW", _adamw, _adam_family("adamw"),
                    "AdamW, as torch.optim.AdamW; weight_decay is decoupled.")
Adamax = _torch_like("Adamax", _adamax, _adam_family("adamax"), "Adamax, as torch.optim.Adamax.")
NAdam = _torch_like("NAdam", _nadam, _adam_family("nadam", ("momentum_decay",)),
                    "NAdam, as torch.optim.NAdam.")
RAdam = _torch_like("RAdam", _radam, _adam_family("radam"), "RAdam, as torch.optim.RAdam.")


def _descent_only(name, method, default_lr, doc):
    """A method torch.optim lacks: descent's hyper-parameter names, and betas
    for beta1 and beta2."""

    def defaults(cls, lr=default_lr, betas=None, *, clip_norm=0.0, clip_value=0.0, l1=0.0, **hyperparameters):
        if betas is not None:
            hyperparameters["beta1"], hyperparameters["beta2"] = betas
        return dict(method=method, lr=lr, clip_norm=clip_norm, clip_value=clip_value, l1=l1, **hyperparameters)

    return _torch_like(name, defaults, Stepper._translate, doc)


Lion = _descent_only("Lion", "lion", 1e-4,
                     "Lion (Chen et al. 2023): the sign of an interpolated momentum; weight_decay is decoupled.")
Adafactor = _descent_only("Adafactor", "adafactor", 1e-2,
                          "Adafactor (Shazeer & Stern 2018): factored second moments for matrices.")
ScheduleFreeSGD = _descent_only("ScheduleFreeSGD", "schedule-free-sgd", required,
                                "Schedule-free SGD (Defazio et al. 2024); evaluate at evaluation_point().")
ScheduleFreeAdamW = _descent_only("ScheduleFreeAdamW", "schedule-free-adamw", 2.5e-3,
                                  "Schedule-free AdamW (Defazio et al. 2024); evaluate at evaluation_point().")
Prodigy = _descent_only("Prodigy", "prodigy", 1.0,
                        "Prodigy (Mishchenko & Defazio 2023): learns its step size; keep lr = 1.")
Muon = _descent_only("Muon", "muon", 2e-2,
                     "Muon (Jordan et al. 2024): orthogonalized momentum for matrices, AdamW for vectors.")

# The classes descent.torch mirrors, in order.
OPTIMIZERS = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Lion",
              "Adafactor", "ScheduleFreeSGD", "ScheduleFreeAdamW", "Prodigy", "Muon", "Stepper"]

from . import lr_scheduler  # noqa: E402  (the schedulers refer to the optimizers' groups only)
