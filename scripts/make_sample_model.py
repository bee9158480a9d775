"""Make the sample MLflow model (assets/models/credit-default-model/) with the project's own training script.

A small synthetic table (seeded, so the same every run) with the credit-default columns' shape, trained by
assets/components/src/train/train.py with a tiny forest so the folder stays a few kilobytes. MLflow stamps
the time and a UUID into MLmodel: a re-run changes the folder's hash, so bump the model's version after one.

    .venv/bin/python scripts/make_sample_model.py [OUT]
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "assets" / "models" / "credit-default-model"
FEATURES = ("limit_bal", "age", "pay_0", "bill_amt1")


def write_table(folder: Path, rows: int = 200) -> None:
    rng = random.Random(0)
    lines = [",".join((*FEATURES, "default_payment_next_month"))]
    for _ in range(rows):
        limit, age, pay, bill = rng.randint(10, 500) * 1000, rng.randint(21, 70), rng.randint(-2, 8), rng.randint(0, 9e4)
        risk = (pay > 1) + (bill > 0.8 * limit)
        lines.append(f"{limit},{age},{pay},{bill},{int(risk >= 1 and rng.random() < 0.8)}")
    (folder / "data.csv").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    sys.path.insert(0, str(ROOT / "assets" / "components" / "src" / "train"))
    import train  # the project's own training script

    with tempfile.TemporaryDirectory() as tmp:
        # A throwaway local run store (mlflow-skinny 3 takes the file store only when told to).
        os.environ["MLFLOW_TRACKING_URI"] = Path(tmp, "mlruns").as_uri()
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        data = Path(tmp, "data")
        data.mkdir()
        write_table(data)
        if out.exists():
            raise SystemExit(f"{out} exists: remove it first (and bump the model's version)")
        train.main(["--train_data", str(data), "--model", str(out), "--n_estimators", "5", "--max_depth", "2"])
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
