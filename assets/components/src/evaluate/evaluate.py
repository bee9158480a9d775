"""Score the test set with the trained model; log and write the metrics and a pass/fail verdict."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", required=True, help="MLflow model folder")
    p.add_argument("--test_data", required=True, help="folder with data.csv")
    p.add_argument("--target_column", default="default_payment_next_month")
    p.add_argument("--min_auc", type=float, default=0.7)
    p.add_argument("--metrics", required=True, help="output folder")
    return p.parse_args(argv)


def evaluate(model, test: pd.DataFrame, target: str) -> dict[str, float]:
    x, y = test.drop(columns=[target]), test[target]
    scores = model.predict_proba(x)[:, 1]
    predicted = (scores >= 0.5).astype(int)
    return {
        "test_auc": float(roc_auc_score(y, scores)),
        "test_f1": float(f1_score(y, predicted)),
        "test_precision": float(precision_score(y, predicted, zero_division=0)),
        "test_recall": float(recall_score(y, predicted)),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    target = args.target_column.lower()
    model = mlflow.sklearn.load_model(args.model)
    metrics = evaluate(model, pd.read_csv(Path(args.test_data) / "data.csv"), target)
    mlflow.log_metrics(metrics)

    passed = metrics["test_auc"] >= args.min_auc
    mlflow.set_tag("quality_gate", "passed" if passed else "failed")
    out = Path(args.metrics)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps({**metrics, "min_auc": args.min_auc, "passed": passed}, indent=2))
    if not passed:
        raise SystemExit(f"test AUC {metrics['test_auc']:.3f} is below the minimum {args.min_auc}")


if __name__ == "__main__":
    main()
