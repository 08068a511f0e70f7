"""Train a scikit-learn classifier on a CSV table, one epoch at a time.

The table (--input-path: a CSV file, or a folder holding exactly one) has a header row;
the --target column holds the class labels and the --features columns hold numbers.
Each epoch trains a little more (one pass of stochastic gradient descent, ten more trees,
or a larger share of the training rows for k-nearest neighbours), then scores the model on
the held-out rows and rewrites ``<output-path>/experiment.json``. The fitted model is saved
to ``<output-path>/model.joblib``.
"""

import argparse
import csv
import json
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TREES_PER_EPOCH = 10


def parse_args():
    parser = argparse.ArgumentParser(description="Train a classifier on a CSV table")
    parser.add_argument("--input-path", type=Path, required=True,
                        help="a CSV file with a header row, or a folder holding one")
    parser.add_argument("--output-path", type=Path, required=True,
                        help="folder for model.joblib and experiment.json (created)")
    parser.add_argument("--algorithm", choices=["logistic", "forest", "knn"], default="logistic",
                        help="logistic regression (SGD), random forest or k-nearest neighbours")
    parser.add_argument("--epochs", type=int, default=10, help="training rounds")
    parser.add_argument("--test-size", type=float, default=0.2,
                        help="fraction of the rows held out for scoring")
    parser.add_argument("--features", nargs="+", default=None,
                        help="feature columns (default: every column but the target)")
    parser.add_argument("--target", default="species", help="the column with the class labels")
    parser.add_argument("--standardize", action="store_true",
                        help="scale the features to zero mean and unit variance")
    parser.add_argument("--seed", type=int, default=42, help="seed of the split and the model")
    return parser.parse_args()


def find_csv(path):
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise SystemExit(f"error: {path} must hold exactly one CSV file, found {len(found)}")
        return found[0]
    return path


def read_table(path, features, target):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns = features or [c for c in reader.fieldnames if c != target]
        missing = [c for c in [*columns, target] if c not in reader.fieldnames]
        if missing:
            raise SystemExit(f"error: {path} has no column {', '.join(missing)}")
        rows = list(reader)
    x = np.array([[float(row[c]) for c in columns] for row in rows])
    y = np.array([row[target] for row in rows])
    return columns, x, y


def probabilities(model, x, classes):
    """predict_proba with one column per class, also for classes the model has not seen."""
    proba = np.zeros((len(x), len(classes)))
    proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x)
    return proba


def write_json(path, data):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def main():
    args = parse_args()
    if args.epochs < 1:
        raise SystemExit("error: --epochs must be at least 1")
    columns, x, y = read_table(find_csv(args.input_path), args.features, args.target)
    classes = np.unique(y)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, random_state=args.seed, stratify=y)
    scaler = StandardScaler().fit(x_train) if args.standardize else None
    if scaler:
        x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

    if args.algorithm == "logistic":
        model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.01,
                              random_state=args.seed)
    elif args.algorithm == "forest":
        model = RandomForestClassifier(n_estimators=0, warm_start=True, random_state=args.seed)
    else:
        model = KNeighborsClassifier(n_neighbors=5)

    args.output_path.mkdir(parents=True, exist_ok=True)
    history = {}
    for epoch in range(args.epochs):
        if args.algorithm == "logistic":
            model.partial_fit(x_train, y_train, classes=classes)
        elif args.algorithm == "forest":
            model.n_estimators += TREES_PER_EPOCH
            model.fit(x_train, y_train)
        else:
            seen = max(model.n_neighbors, len(x_train) * (epoch + 1) // args.epochs)
            model.fit(x_train[:seen], y_train[:seen])
        acc = accuracy_score(y_test, model.predict(x_test))
        loss = log_loss(y_test, probabilities(model, x_test, classes), labels=classes)
        history[str(epoch)] = {"acc": round(float(acc), 4), "loss": round(float(loss), 4)}
        write_json(args.output_path / "experiment.json", history)
        print(f"epoch {epoch + 1}/{args.epochs}  acc={acc:.4f}  loss={loss:.4f}")

    pipeline = make_pipeline(scaler, model) if scaler else make_pipeline(model)
    joblib.dump({"model": pipeline, "features": columns, "target": args.target},
                args.output_path / "model.joblib")
    print(f"saved {args.output_path / 'model.joblib'} ({args.algorithm} on {', '.join(columns)})")


if __name__ == "__main__":
    main()
