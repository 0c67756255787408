"""descent.train and the estimators: the same solutions as scikit-learn
(stored by make_sklearn_reference.py), saving and loading the CLI's model
files, callbacks, Ctrl-C and errors; sklearn's own machinery (clone,
Pipeline, cross_val_score) where python3-sklearn is installed."""

import json
import os
import pathlib
import subprocess
import _thread

import numpy as np
import pytest

import descent
import estimator_data

REFERENCE = json.loads((pathlib.Path(__file__).with_name("data") / "sklearn_reference.json").read_text())["cases"]


@pytest.mark.parametrize("name", ["binary", "three"])
@pytest.mark.parametrize("C", estimator_data.CS)
def test_logistic_regression_finds_sklearns_coefficients(name, C):
    X, y = estimator_data.classification()[name]
    m = descent.LogisticRegression(C=C, tol=1e-9).fit(X, y)
    want = REFERENCE[f"logistic/{name}/C={C}"]
    coef, intercept = np.asarray(want["coef"]), np.asarray(want["intercept"])
    scale = np.abs(coef).max()
    if name == "three":  # sklearn's multinomial coefficients are centred over the classes; descent's need not be
        coef = coef - coef.mean(axis=0)
        intercept = intercept - intercept.mean()
        got_coef = m.coef_ - m.coef_.mean(axis=0)
        got_intercept = m.intercept_ - m.intercept_.mean()
    else:
        got_coef, got_intercept = m.coef_, m.intercept_
    assert np.abs(got_coef - coef).max() <= 1e-4 * scale
    assert np.abs(got_intercept - intercept).max() <= 1e-4 * max(scale, 1)
    assert m.predict_proba(X).shape == (len(X), len(np.unique(y)))
    assert np.allclose(m.predict_proba(X).sum(axis=1), 1)


@pytest.mark.parametrize("alpha", estimator_data.ALPHAS)
def test_linear_regression_is_ridge_and_least_squares(alpha):
    X, y = estimator_data.regression()
    m = descent.LinearRegression(alpha=alpha, tol=1e-10).fit(X, y)
    want = REFERENCE[f"ridge/alpha={alpha}"]
    assert np.allclose(m.coef_, want["coef"], atol=1e-5)
    assert m.intercept_ == pytest.approx(want["intercept"], abs=1e-5)
    if alpha == 0:
        A = np.column_stack([X.astype(np.float64), np.ones(len(X))])
        exact = np.linalg.lstsq(A, y, rcond=None)[0]
        assert np.allclose(np.append(m.coef_, m.intercept_), exact, atol=1e-5)
    assert m.score(X, y) > 0.95


def test_string_labels_and_the_mlps():
    X, y = estimator_data.classification()["three"]
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = descent.MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=1e-2, random_state=1)
    clf.fit(X, names)
    assert set(clf.predict(X)) <= set(names) and clf.score(X, names) > 0.8
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert len(clf.history_) == 60
    Xr, yr = estimator_data.regression()
    reg = descent.MLPRegressor(hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=1e-2, random_state=0)
    assert reg.fit(Xr, yr).score(Xr, yr) > 0.9


def test_train_on_arrays_gives_history_and_a_model_that_predicts():
    X, y = estimator_data.classification()["binary"]
    seen = []
    r = descent.train(X, y, model="mlp:4-8-2", optimizer="adam", lr=1e-2, epochs=6, batch_size=16,
                      val_fraction=0.25, seed=3, beta2=0.99, callback=seen.append)
    assert r.status == "max_iterations" and r.epochs == 6 and len(r.history) == 6 and len(seen) == 6
    assert all("validation_accuracy" in h for h in r.history)
    assert r.hyperparameters["beta2"] == 0.99
    out = r.model.predict(X)
    assert out.shape == (len(X), 2) and out.dtype == np.float32
    e = r.model.evaluate(X, y)
    assert e["accuracy"] > 0.7 and e["classes"] == 2 and sum(e["confusion"]) == len(X)
    # the same seed gives the same weights
    again = descent.train(X, y, model="mlp:4-8-2", optimizer="adam", lr=1e-2, epochs=6, batch_size=16,
                          val_fraction=0.25, seed=3, beta2=0.99)
    assert np.array_equal(again.model.parameters(), r.model.parameters())


def test_a_callback_stops_the_run_and_a_solver_trains_in_float64():
    X, y = estimator_data.classification()["binary"]
    r = descent.train(X, y, model="logistic", optimizer="sgd", lr=0.1, epochs=50, callback=lambda e: e["epoch"] < 3)
    assert r.epochs == 3 and r.status == "stopped_by_callback"
    s = descent.train(X, y, model="logistic", optimizer="lbfgs", gtol=1e-8)
    assert s.status.startswith("converged") and s.model.dtype == np.float64 and s.history == []


def test_models_save_and_load_as_the_cli_writes_them(tmp_path):
    X, y = estimator_data.regression()
    r = descent.train(X, y, model="mlp:5-8-1", optimizer="adam", lr=1e-2, epochs=3, standardize=True)
    path = tmp_path / "model.safetensors"
    r.model.save(str(path))
    back = descent.load_model(path)
    assert back.spec == "mlp:5-8-1" and back.loss == "mse"
    assert np.array_equal(back.predict(X), r.model.predict(X))   # the standardization travels with it
    assert back.weights().keys() == r.model.weights().keys()
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(RuntimeError, match="model.safetensors"):
        descent.load_model(path)


def test_a_csv_file_as_the_cli_reads_it(tmp_path):
    X, y = estimator_data.classification()["three"]
    lines = ["a,b,c,d,label"] + [",".join(f"{v:.6g}" for v in row) + f",{label}" for row, label in zip(X, y)]
    csv = tmp_path / "three.csv"
    csv.write_text("\n".join(lines) + "\n")
    X2, y2 = descent.load_data(csv)
    assert X2.shape == (300, 4) and np.array_equal(y2, y.astype(np.float32))
    assert np.allclose(X2, X, rtol=1e-5)
    r = descent.train(str(csv), model="logistic", optimizer="lbfgs", standardize=True, val_fraction=0.1)
    assert r.test["rows"] == 60 and r.test["accuracy"] > 0.7   # the seeded 20% held out, as the CLI does
    with pytest.raises(RuntimeError, match="no_such.csv"):
        descent.train(str(tmp_path / "no_such.csv"))


def test_bad_input_is_named():
    X, y = estimator_data.classification()["binary"]
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        descent.train(X, y, optimizer="adamm")
    with pytest.raises(ValueError, match="one row per row of X"):
        descent.train(X, y[:-1])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        descent.train(bad, y)
    with pytest.raises(ValueError, match="no hyper-parameter 'gamma'"):
        descent.train(X, y, optimizer="adam", gamma=1.0)
    with pytest.raises(ValueError, match="two classes"):
        descent.LogisticRegression().fit(X, np.zeros(len(X)))
    with pytest.raises(Exception, match="not fitted"):
        descent.LogisticRegression().predict(X)


def test_ctrl_c_stops_training_at_a_step():
    # Simulated from the epoch callback (interrupt_main): the KeyboardInterrupt arrives in
    # the callback or at the trainer's next step, which looks for it; both stop the run.
    X, y = estimator_data.classification()["binary"]

    def ctrl_c_after_the_second(epoch):
        if epoch["epoch"] == 2:
            _thread.interrupt_main()

    r = descent.train(X, y, model="logistic", optimizer="sgd", epochs=1000, batch_size=8,
                      callback=ctrl_c_after_the_second)
    assert r.status == "interrupted" and r.epochs in (2, 3)


def test_sklearns_machinery_takes_the_estimators():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = estimator_data.classification()["three"]
    scores = cross_val_score(make_pipeline(StandardScaler(), descent.LogisticRegression()), X, y, cv=3)
    assert len(scores) == 3 and scores.min() > 0.7
    grid = GridSearchCV(descent.LogisticRegression(), {"C": [0.01, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_["C"] in (0.01, 1.0)
    c = clone(descent.MLPClassifier(hidden_layer_sizes=(8,), alpha=0.1))
    assert c.get_params()["hidden_layer_sizes"] == (8,) and c.alpha == 0.1
    assert sklearn.base.is_classifier(descent.MLPClassifier()) and sklearn.base.is_regressor(descent.MLPRegressor())


CLI = os.environ.get("DESCENT_CLI")


def write_csv(path, X, y):
    lines = ["a,b,c,d,label"] + [",".join(f"{v:.9g}" for v in row) + f",{label}" for row, label in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.skipif(not CLI, reason="DESCENT_CLI (the command-line tool) is not set; CTest sets it")
def test_model_files_pass_between_python_and_the_cli(tmp_path):
    X, y = estimator_data.classification()["three"]
    csv = tmp_path / "three.csv"
    write_csv(csv, X, y)

    def cli_evaluate(model):
        out = subprocess.run([CLI, "evaluate", "--model", str(model), "--data", str(csv), "--json"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    # the CLI trains and saves; Python loads the file and evaluates it as the CLI does
    from_cli = tmp_path / "cli.safetensors"
    subprocess.run([CLI, "train", "--data", str(csv), "--model", "mlp:4-8-3", "--optimizer", "adam", "--epochs",
                    "3", "--standardize", "--save", str(from_cli), "--json"], check=True, capture_output=True)
    model = descent.load_model(from_cli)
    mine, theirs = model.evaluate(X, y), cli_evaluate(from_cli)
    assert mine["rows"] == theirs["rows"] == 300
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-6)
    assert mine["accuracy"] == theirs["accuracy"] and mine["confusion"] == theirs["confusion"]

    # Python trains and saves; the CLI evaluates the file
    from_python = tmp_path / "python.safetensors"
    r = descent.train(X, y, model="logistic", optimizer="lbfgs", l2=1e-2, standardize=True)
    r.model.save(from_python)
    mine, theirs = r.model.evaluate(X, y), cli_evaluate(from_python)
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-9)
    assert mine["accuracy"] == theirs["accuracy"]


def _overlapping_blobs(n=600, seed=1):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = (rng.normal(size=(n, 3)) + np.where(y[:, None] == 1, 0.8, -0.8)).astype(np.float32)
    return X, y.astype(np.float32)


def test_lr_find_gives_a_curve_and_a_suggestion_that_train_auto_uses():
    X, y = _overlapping_blobs()
    found = descent.lr_find(X, y, model="logistic", optimizer="sgd", batch_size=16, seed=2)
    assert found["suggestion"] == pytest.approx(found["minimum_lr"] / 10)
    assert len(found["lr"]) == len(found["loss"]) == len(found["smoothed"]) > 10
    assert np.all(np.diff(found["lr"]) > 0)
    r = descent.train(X, y, model="logistic", optimizer="sgd", batch_size=16, seed=2, lr="auto", epochs=2)
    assert r.lr == found["suggestion"]
    assert r.lr_find["suggestion"] == found["suggestion"]
    # The range test leaves the start as it was: training at the found rate
    # from scratch gives the same weights.
    plain = descent.train(X, y, model="logistic", optimizer="sgd", batch_size=16, seed=2, lr=r.lr, epochs=2)
    assert plain.train_loss == r.train_loss


def test_lr_find_misuse_raises_value_errors():
    X, y = _overlapping_blobs(50)
    with pytest.raises(ValueError, match="for the steppers"):
        descent.lr_find(X, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr must be a number or 'auto'"):
        descent.train(X, y, lr="fast")
    with pytest.raises(ValueError, match="lr_max"):
        descent.lr_find(X, y, lr_min=1.0, lr_max=0.5)


def test_a_plateau_is_reported_in_the_history():
    X, y = _overlapping_blobs(100)
    r = descent.train(X, y, model="logistic", optimizer="sgd", lr=0.0, epochs=4, batch_size=100)
    assert r.plateau_since == 1
    assert [e.get("plateau_epochs", 0) for e in r.history] == [0, 0, 3, 4]
    assert all(e["mean_gradient_norm"] > 0 for e in r.history)
