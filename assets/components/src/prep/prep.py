"""Clean the raw credit-default CSV, split it, and oversample the minority class (train only)."""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import pandas as pd
from sklearn.model_selection import train_test_split


def str2bool(value: str) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--raw_data", required=True, help="CSV file")
    p.add_argument("--target_column", default="default_payment_next_month")
    p.add_argument("--test_size", type=float, default=0.2)
    p.add_argument("--oversample", type=str2bool, default=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--train_data", required=True, help="output folder")
    p.add_argument("--test_data", required=True, help="output folder")
    return p.parse_args(argv)


def clean(df: pd.DataFrame, target: str) -> pd.DataFrame:
    df = df.rename(columns=lambda c: c.strip().lower().replace(" ", "_").replace(".", "_"))
    target = target.lower()
    if target not in df.columns:
        raise SystemExit(f"target column {target!r} not in {sorted(df.columns)}")
    df = df.drop(columns=[c for c in ("id", "unnamed:_0") if c in df.columns])
    df = df.dropna(subset=[target]).drop_duplicates()
    numeric = df.select_dtypes("number").columns.drop(target, errors="ignore")
    df[numeric] = df[numeric].fillna(df[numeric].median())
    df[target] = df[target].astype(int)
    return df


def oversample(train: pd.DataFrame, target: str, seed: int) -> pd.DataFrame:
    """Random oversampling: repeat minority-class rows until both classes are the same size."""
    counts = train[target].value_counts()
    if len(counts) < 2:
        return train
    majority = counts.idxmax()
    parts = [train[train[target] == majority]]
    for label, n in counts.items():
        if label == majority:
            continue
        rows = train[train[target] == label]
        parts.append(rows.sample(n=counts.max(), replace=True, random_state=seed))
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    target = args.target_column.lower()
    df = clean(pd.read_csv(args.raw_data), target)
    train, test = train_test_split(df, test_size=args.test_size, stratify=df[target], random_state=args.seed)
    if args.oversample:
        train = oversample(train, target, args.seed)

    for folder, frame in ((args.train_data, train), (args.test_data, test)):
        Path(folder).mkdir(parents=True, exist_ok=True)
        frame.to_csv(Path(folder) / "data.csv", index=False)

    mlflow.log_metrics({
        "rows_raw": len(df),
        "rows_train": len(train),
        "rows_test": len(test),
        "positive_rate_train": float(train[target].mean()),
        "positive_rate_test": float(test[target].mean()),
    })


if __name__ == "__main__":
    main()
