"""descent.torch: descent's steppers as torch.optim optimizers.

    import descent.torch
    opt = descent.torch.Adam(model.parameters(), lr=1e-3)   # instead of torch.optim.Adam
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

Each is a torch.optim.Optimizer. At construction it moves the parameters of
each parameter group into one contiguous buffer and their gradients into
another: every param.data and param.grad becomes a view into them, so
backward() accumulates straight into the flat gradient and one fused descent
pass updates all the group's parameters (with weight decay, clipping and the
rest inside that pass), where torch.optim runs a loop or a dozen foreach
kernels over the list of tensors.

What differs from torch.optim (docs/python.md):
  - parameters are CPU tensors of one dtype per group (float32 or float64);
  - a parameter whose .grad is None at step() is stepped with a zero
    gradient (torch skips it): its moments decay and weight decay applies;
  - zero_grad() zeroes the flat gradient in one pass and keeps .grad as
    views, whatever set_to_none says;
  - state_dict()["state"] holds one entry per group (the stepper's flat
    state), not one per parameter.
If code replaces a parameter's .data or .grad by another tensor, the next
step() copies it into the buffer and makes it a view again.
"""

import torch as _torch

from . import optim as _optim

__all__ = list(_optim.OPTIMIZERS) + ["Optimizer"]


class _Flat:
    """One parameter group's parameters and gradients as views of two buffers."""

    def __init__(self, params):
        if not params:
            raise ValueError("a parameter group has no parameters")
        dtypes = {p.dtype for p in params}
        if len(dtypes) != 1 or dtypes.pop() not in (_torch.float32, _torch.float64):
            raise TypeError("descent.torch steps float32 or float64 parameters, one dtype per parameter group; got "
                            + ", ".join(sorted({str(p.dtype) for p in params})))
        for i, p in enumerate(params):
            if p.device.type != "cpu":
                raise ValueError(f"parameter {i} is on {p.device}; descent.torch steps CPU tensors")
            if p.is_sparse:
                raise ValueError(f"parameter {i} is sparse; descent.torch steps dense tensors")
        self.params = params
        dtype = params[0].dtype
        sizes = [p.numel() for p in params]
        total = sum(sizes)
        with _torch.no_grad():
            self.data = _torch.empty(total, dtype=dtype)
            self.grad = _torch.zeros(total, dtype=dtype)
            self.data_views, self.grad_views, offset = [], [], 0
            for p, n in zip(params, sizes):
                d = self.data[offset:offset + n].view_as(p)
                g = self.grad[offset:offset + n].view_as(p)
                d.copy_(p.detach())
                if p.grad is not None:
                    g.copy_(p.grad)
                p.data = d
                p.grad = g
                self.data_views.append(d)
                self.grad_views.append(g)
                offset += n
        self.data_pointers = [d.data_ptr() for d in self.data_views]
        self.x = [d.numpy() for d in self.data_views]
        self.g = [g.numpy() for g in self.grad_views]

    def sync(self):
        """Makes every .data and .grad a view of the buffers again where code
        replaced it (p.grad = None, a new tensor assigned to .data, ...)."""
        for p, d, g, ptr in zip(self.params, self.data_views, self.grad_views, self.data_pointers):
            if p.grad is not g:
                if p.grad is None:
                    g.zero_()
                else:
                    g.copy_(p.grad)
                p.grad = g
            if p.data_ptr() != ptr:
                d.copy_(p.detach())
                p.data = d


class Optimizer(_torch.optim.Optimizer):
    """The base of descent.torch's optimizers: a torch.optim.Optimizer whose
    groups are stepped by descent (the matching descent.optim class, _numpy,
    gives the constructor's arguments and their translation)."""

    _numpy = None

    def __init__(self, params, *args, **kwargs):
        self._flat = []
        self._steppers = []
        self._built_with = []
        super().__init__(params, _optim._check_defaults(self._numpy._defaults(*args, **kwargs)))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        _optim._check_defaults(group)
        flat = _Flat(group["params"])
        self._steppers.append(_optim._build(self._numpy, group, flat.x))
        self._flat.append(flat)
        self._built_with.append(_optim._settings(group))

    @_torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        for i, (group, flat) in enumerate(zip(self.param_groups, self._flat)):
            flat.sync()
            settings = _optim._settings(group)
            if settings != self._built_with[i]:
                self._steppers[i] = _optim._rebuilt(self._numpy, self._steppers[i], group, flat.x, i)
                self._built_with[i] = settings
            self._steppers[i].step(flat.x, flat.g, float(group["lr"]))
        return loss

    def zero_grad(self, set_to_none=False):
        """Zeroes each group's flat gradient (one pass); .grad stays a view."""
        for flat in self._flat:
            flat.sync()
            flat.grad.zero_()

    def evaluation_point(self):
        """The parameters to evaluate or save the model at, as new tensors in
        the order of the parameters: the averaged iterate for the
        schedule-free methods, copies of the parameters otherwise."""
        return [_torch.from_numpy(a) for flat, s in zip(self._flat, self._steppers) for a in s.evaluation_point(flat.x)]

    @property
    def method(self):
        return self._steppers[0].name

    def state_dict(self):
        return _optim._pack(self.param_groups, self._steppers)

    def load_state_dict(self, state_dict):
        settings, steppers = _optim._unpack(self._numpy, state_dict, self.param_groups, [f.x for f in self._flat])
        for group, s in zip(self.param_groups, settings):
            group.update(s)
        self._steppers = steppers
        self._built_with = [_optim._settings(g) for g in self.param_groups]


def _mirror(name):
    numpy_class = getattr(_optim, name)
    cls = type(name, (Optimizer,), {"_numpy": numpy_class, "__doc__": numpy_class.__doc__,
                                    "__module__": __name__})
    cls.__signature__ = getattr(numpy_class, "__signature__", None)
    return cls


for _name in _optim.OPTIMIZERS:
    globals()[_name] = _mirror(_name)
del _name
