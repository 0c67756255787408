"""The scikit-learn-style estimators: descent.LinearRegression, LogisticRegression,
MLPClassifier and MLPRegressor, trained by descent.train.

Imported on first use (descent.LogisticRegression), so that `import descent`
does not pay for importing scikit-learn, whose BaseEstimator and mixins they
derive from where it is installed (then clone, Pipeline, GridSearchCV and
cross_val_score take them); a minimal stand-in with the same get_params,
set_params and score serves otherwise.
"""

import numpy as np

from . import _core
from ._train import train

__all__ = ["LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor"]

try:  # scikit-learn's bases where it is installed: clone, tags, Pipeline, cross_val_score
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import RegressorMixin as _RegressorMixin
except ImportError:  # a minimal stand-in with the same get_params / set_params / score
    import inspect

    class _Base:
        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}; "
                                     f"valid parameters: {valid}")
                setattr(self, key, value)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _ClassifierMixin:
        _estimator_type = "classifier"

        def score(self, X, y, sample_weight=None):
            return float(np.average(self.predict(X) == np.asarray(y), weights=sample_weight))

    class _RegressorMixin:
        _estimator_type = "regressor"

        def score(self, X, y, sample_weight=None):
            y = np.asarray(y, dtype=float)
            p = np.asarray(self.predict(X), dtype=float).reshape(y.shape)
            w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
            w = w.reshape((-1,) + (1,) * (y.ndim - 1))
            ss_res = np.sum(w * (y - p) ** 2, axis=0)
            ss_tot = np.sum(w * (y - np.average(y, axis=0, weights=w.reshape(-1))) ** 2, axis=0)
            return float(np.mean(1 - ss_res / ss_tot))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


class _Fitted:
    """What the estimators share: fit runs train(), predict runs the model."""

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise _not_fitted(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' first.")

    def _features(self, X):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (samples x features); got shape {X.shape}")
        return X

    def _run(self, X, y, spec, loss, **settings):
        r = train(X, y, model=spec, loss=loss, seed=self.random_state or 0, **settings)
        if r.status in ("diverged", "interrupted"):
            raise RuntimeError(f"{type(self).__name__}.fit: {r.status}: {r.message}")
        self.model_ = r.model
        self.history_ = r.history
        self.n_iter_ = r.get("epochs", r.get("iterations"))
        self.n_features_in_ = X.shape[1]
        self.train_result_ = {k: v for k, v in r.items() if k != "model"}
        return self

    def _segment(self, suffix):
        """The trained model's "...weight" or "...bias" parameters (linear models)."""
        self._check_fitted()
        return next(v for k, v in self.model_.weights().items() if k.endswith(suffix))

    def save(self, path):
        """The trained model as the CLI's safetensors model file."""
        self._check_fitted()
        self.model_.save(str(path))


def _not_fitted(message):
    try:
        from sklearn.exceptions import NotFittedError
        return NotFittedError(message)
    except ImportError:
        return AttributeError(message)


class _Classifier(_Fitted, _ClassifierMixin):
    def _labels(self, y):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be one label per sample; got shape {y.shape}")
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes in y; got {self.classes_!r}")
        return index.astype(np.float32)

    def predict_proba(self, X):
        self._check_fitted()
        z = self.model_.predict(self._features(X)).astype(np.float64)
        if z.shape[1] == 1:
            p = _sigmoid(z[:, 0])
            return np.column_stack([1 - p, p])
        return _softmax(z)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def decision_function(self, X):
        self._check_fitted()
        z = self.model_.predict(self._features(X)).astype(np.float64)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict(self, X):
        self._check_fitted()
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _Regressor(_Fitted, _RegressorMixin):
    def _targets(self, y):
        y = np.asarray(y, dtype=np.float32)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be one value (or a row of values) per sample; got shape {y.shape}")
        self._y_columns = None if y.ndim == 1 else y.shape[1]
        return y

    def predict(self, X):
        self._check_fitted()
        z = self.model_.predict(self._features(X))
        return z[:, 0].astype(np.float64) if self._y_columns is None else z.astype(np.float64)


class LinearRegression(_Regressor, _Base):
    """Least squares (with an optional ridge penalty alpha, as sklearn's Ridge:
    ||y - Xw - b||^2 + alpha ||w||^2), solved by a full-batch solver to
    convergence; any descent solver or stepper may be given."""

    def __init__(self, *, alpha=0.0, optimizer="lbfgs", tol=1e-6, max_iter=10000, lr=1e-2, epochs=100,
                 batch_size=32, random_state=None):
        self.alpha = alpha
        self.optimizer = optimizer
        self.tol = tol
        self.max_iter = max_iter
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, X, y):
        X = self._features(X)
        y = self._targets(y)
        outputs = 1 if y.ndim == 1 else y.shape[1]
        # descent minimizes mean(residual^2) + (l2/2)||W||^2, the mean over n rows x outputs:
        # (sum of squares + alpha ||W||^2) / (n outputs) is that with l2 = 2 alpha / (n outputs)
        l2 = 2.0 * float(self.alpha) / (len(X) * outputs)
        return self._run(X, y, f"linear:{X.shape[1]}-{outputs}", "mse", optimizer=self.optimizer, gtol=self.tol,
                         max_iter=self.max_iter, lr=self.lr, epochs=self.epochs, batch_size=self.batch_size, l2=l2)

    @property
    def coef_(self):
        weight = self._segment("weight")
        return weight[0] if self._y_columns is None else weight

    @property
    def intercept_(self):
        b = self._segment("bias")
        return float(b[0]) if self._y_columns is None else b


class LogisticRegression(_Classifier, _Base):
    """Binary or multinomial logistic regression with sklearn's penalty: the
    sum of the log-losses plus ||w||^2 / (2 C), intercepts unpenalized,
    solved by L-BFGS to convergence (sklearn's default solver)."""

    def __init__(self, *, C=1.0, optimizer="lbfgs", tol=1e-6, max_iter=1000, lr=1e-2, epochs=100, batch_size=32,
                 standardize=False, random_state=None):
        self.C = C
        self.optimizer = optimizer
        self.tol = tol
        self.max_iter = max_iter
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.standardize = standardize
        self.random_state = random_state

    def fit(self, X, y):
        X = self._features(X)
        labels = self._labels(y)
        if self.C <= 0:
            raise ValueError(f"C must be positive; got {self.C}")
        # mean log-loss + (l2/2)||w||^2 is (1/n) of sklearn's sum + ||w||^2 / (2C)
        l2 = 1.0 / (float(self.C) * len(X))
        k = len(self.classes_)
        spec = f"logistic:{X.shape[1]}" if k == 2 else f"logistic:{X.shape[1]}-{k}"
        return self._run(X, labels, spec, "", optimizer=self.optimizer, gtol=self.tol, max_iter=self.max_iter,
                         lr=self.lr, epochs=self.epochs, batch_size=self.batch_size, l2=l2,
                         standardize=self.standardize)

    @property
    def coef_(self):
        w = self._segment("weight")
        return w.reshape(1, -1) if len(self.classes_) == 2 else w

    @property
    def intercept_(self):
        return self._segment("bias")


class _MLP(_Base):
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, random_state=None, tol=1e-4,
                 n_iter_no_change=0, validation_fraction=0.0, standardize=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.standardize = standardize

    def _spec(self, features, outputs):
        hidden = (self.hidden_layer_sizes,) if np.isscalar(self.hidden_layer_sizes) else tuple(self.hidden_layer_sizes)
        act = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "gelu": "gelu",
               "leaky_relu": "leaky_relu"}.get(self.activation)
        if act is None:
            raise ValueError(f"activation must be one of relu, tanh, logistic, gelu, leaky_relu; got {self.activation!r}")
        return "mlp:" + "-".join(str(int(s)) for s in (features,) + hidden + (outputs,)) + f":{act}"

    def _fit_mlp(self, X, y, outputs, loss, data_scale=1.0):
        n = len(X)
        batch = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        full_batch = _core_is_solver(self.solver)
        # sklearn's penalty: (alpha / 2) ||W||^2 / rows of the batch, beside its loss; descent's loss
        # is data_scale times sklearn's (mean squared error without sklearn's 1/2: 2)
        l2 = data_scale * float(self.alpha) / (n if full_batch else batch)
        return self._run(X, y, self._spec(X.shape[1], outputs), loss, optimizer=self.solver,
                         lr=self.learning_rate_init, epochs=self.max_iter, batch_size=batch, l2=l2,
                         patience=self.n_iter_no_change, val_fraction=self.validation_fraction,
                         max_iter=self.max_iter, gtol=self.tol, standardize=self.standardize)


def _core_is_solver(name):
    return name in _core.methods()


class MLPClassifier(_Classifier, _MLP):
    """A multi-layer perceptron classifier with sklearn's arguments, trained by
    any descent stepper (solver="adam", "sgd", "lion", ...) or full-batch
    solver ("lbfgs"); cross-entropy over K >= 2 outputs."""

    def fit(self, X, y):
        X = self._features(X)
        labels = self._labels(y)
        return self._fit_mlp(X, labels, len(self.classes_), "")


class MLPRegressor(_Regressor, _MLP):
    """A multi-layer perceptron regressor with sklearn's arguments; squared error."""

    def fit(self, X, y):
        X = self._features(X)
        y = self._targets(y)
        return self._fit_mlp(X, y, 1 if y.ndim == 1 else y.shape[1], "mse", data_scale=2.0)
