"""Train a gradient-boosting classifier and save it as an MLflow model."""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--train_data", required=True, help="folder with data.csv")
    p.add_argument("--target_column", default="default_payment_next_month")
    p.add_argument("--n_estimators", type=int, default=200)
    p.add_argument("--learning_rate", type=float, default=0.1)
    p.add_argument("--max_depth", type=int, default=3)
    p.add_argument("--model", required=True, help="output folder for the MLflow model")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    target = args.target_column.lower()
    train = pd.read_csv(Path(args.train_data) / "data.csv")
    x, y = train.drop(columns=[target]), train[target]

    model = GradientBoostingClassifier(
        n_estimators=args.n_estimators, learning_rate=args.learning_rate, max_depth=args.max_depth, random_state=0
    )
    model.fit(x, y)

    mlflow.log_params({"n_estimators": args.n_estimators, "learning_rate": args.learning_rate,
                       "max_depth": args.max_depth, "features": x.shape[1]})
    mlflow.log_metric("train_auc", float(roc_auc_score(y, model.predict_proba(x)[:, 1])))
    # Save (not log): the pipeline passes the folder on as an mlflow_model output. cloudpickle
    # explicitly, so the model loads the same under the environment's MLflow 2 and under MLflow 3.
    mlflow.sklearn.save_model(model, args.model, serialization_format="cloudpickle", input_example=x.head(5))


if __name__ == "__main__":
    main()
