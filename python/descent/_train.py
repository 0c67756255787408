"""descent.train: `descent train` from Python, on numpy arrays or the CLI's data sets."""

import math

import numpy as np

from . import _core

__all__ = ["train", "lr_find", "load_model", "load_data", "TrainResult"]


class TrainResult(dict):
    """What train returns: a dict whose keys are also attributes. model (the
    trained Model), history (one dict per epoch), status, message, and the
    run's figures (epochs, steps, train_loss, seconds, samples_per_second, or
    for a solver iterations and evaluations; test when a test set was given)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    def __dir__(self):
        return list(self.keys())


def _number(name, value):
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"hyper-parameter {name} must be a number; got {value!r}") from None


def train(data=None, y=None, *, model="logistic", optimizer="adam", lr=1e-3, epochs=10, batch_size=32,
          schedule="", patience=0, l2=0.0, seed=0, loss="", validation=None, val_fraction=0.0, standardize=False,
          test="", label_column="", time_limit=math.inf, checkpoint="", resume="", gtol=1e-5, max_iter=1000,
          memory=10, clip_norm=0.0, clip_value=0.0, l1=0.0, callback=None, **hyperparameters):
    """Trains a model as `descent train` does and returns a TrainResult.

    data: X (an array, one row per sample, with y the targets: class ids
    0..K-1 or -1/+1 for classifiers, values for regression), or what the CLI's
    --data takes: a named set ("fashion-mnist") or a CSV / LIBSVM file (then
    test, label_column, standardize and val_fraction mean what the CLI's
    flags do, and a named set's test part is evaluated into result.test).
    model: "linear", "logistic" (sized from the data), or a spec
    ("mlp:784-256-10", "cnn:lenet"; descent._core.model_spec_help()).
    optimizer: a stepper ("adam", "sgd", ...; its hyper-parameters as
    keywords, e.g. beta2=0.99) run for epochs of batch_size rows, in
    float32; or a full-batch solver ("lbfgs", "cg-hz", ...) run to gtol or
    max_iter, in float64. lr: the steppers' rate, or "auto": the suggestion
    of the range test (lr_find) run first from the same start, kept in
    result.lr_find. validation: (X_val, y_val), or val_fraction of the
    training rows. callback(epoch_dict) after each epoch; returning False
    stops the run. Ctrl-C stops it at the next step (status "interrupted").
    An epoch on a plateau (its mean loss and gradient norm flat over three
    epochs) carries plateau_epochs; result.plateau_since says when the
    plateau the run ended on began.
    """
    return _run(data, y, model, optimizer, lr, epochs, batch_size, schedule, patience, l2, seed, loss, validation,
                val_fraction, standardize, test, label_column, time_limit, checkpoint, resume, gtol, max_iter, memory,
                clip_norm, clip_value, l1, callback, hyperparameters, "auto" if _is_auto(lr) else "", {})


def lr_find(data=None, y=None, *, model="logistic", optimizer="adam", batch_size=32, lr_min=1e-7, lr_max=10.0,
            steps=200, divergence=4.0, l2=0.0, seed=0, loss="", val_fraction=0.0, standardize=False, label_column="",
            clip_norm=0.0, clip_value=0.0, l1=0.0, **hyperparameters):
    """The learning-rate range test (Smith 2017), as `descent lr-find`: steps
    mini-batches from the model's seeded start while the rate grows
    geometrically from lr_min to lr_max, stopping once the loss's moving
    average passes divergence times its lowest. Returns a dict: suggestion
    (a tenth of the rate of the lowest smoothed loss; None if the loss never
    fell), steepest_lr, minimum_lr, diverged, message, and the curve as numpy
    arrays lr, loss and smoothed. data, y and the rest as in train."""
    return _run(data, y, model, optimizer, 1e-3, 1, batch_size, "", 0, l2, seed, loss, None, val_fraction,
                standardize, "", label_column, math.inf, "", "", 1e-5, 1000, 10, clip_norm, clip_value, l1, None,
                hyperparameters, "find", {"lr_min": lr_min, "lr_max": lr_max, "steps": steps,
                                          "divergence": divergence})


def _is_auto(lr):
    if isinstance(lr, str):
        if lr != "auto":
            raise ValueError(f"lr must be a number or 'auto'; got {lr!r}")
        return True
    return False


def _run(data, y, model, optimizer, lr, epochs, batch_size, schedule, patience, l2, seed, loss, validation,
         val_fraction, standardize, test, label_column, time_limit, checkpoint, resume, gtol, max_iter, memory,
         clip_norm, clip_value, l1, callback, hyperparameters, lr_mode, range_test):
    X_val = y_val = None
    if validation is not None:
        X_val, y_val = validation
    hp = {k: _number(k, v) for k, v in hyperparameters.items()}
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        if y is not None:
            raise ValueError("train: y goes with an array X, not with a data set name or file")
        name, X = str(data if not isinstance(data, bytes) else data.decode()), None
    else:
        if data is None:
            raise ValueError("train needs data: an array X with y, or a data set name or file")
        name, X = "", data
        if y is None:
            raise ValueError("train: y (the targets) is needed with an array X")
    out = _core.train(name, X, y, X_val, y_val, str(test), str(label_column), bool(standardize), float(val_fraction),
                      str(model), str(loss), str(optimizer), hp, float(clip_norm), float(clip_value), float(l1),
                      int(epochs), int(batch_size), 1e-3 if _is_auto(lr) else float(lr), str(schedule), int(patience), float(l2), int(seed),
                      float(time_limit), str(checkpoint), str(resume), float(gtol), int(max_iter), int(memory),
                      callback, lr_mode, float(range_test.get("lr_min", 1e-7)), float(range_test.get("lr_max", 10.0)),
                      int(range_test.get("steps", 200)), float(range_test.get("divergence", 4.0)))
    return out if lr_mode == "find" else TrainResult(out)


def load_model(path):
    """A model saved by Model.save or `descent train --save` (safetensors)."""
    import os
    return _core.load_model(os.fspath(path))


def load_data(name, part="train", label_column=""):
    """(X, y) as float32 numpy arrays from what the CLI's --data takes: a named
    set ("fashion-mnist", part "train" or "test") or a CSV / LIBSVM file
    (label_column: the CSV's target column, by index or header name; default
    the last). Bad files raise naming the file, line and what was expected."""
    return _core.load_data(str(name), str(part), str(label_column))
