"""Holdout MAPE of statsmodels' Holt-Winters on the labelled set that `insightops bench-detection
--export` writes: ExponentialSmoothing(trend="add", seasonal="add", seasonal_periods=7), fitted on
the same training days as InsightOps' forecast (the `fit_days` before the 28-day holdout) and, for
comparison, on every day before the holdout. Prints one JSON object."""

import csv
import json
import sys
import warnings

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing

HOLDOUT = 28
FIT_DAYS = int(sys.argv[2]) if len(sys.argv) > 2 else 364


def mape(actual, predicted):
    terms = [abs((a - p) / a) for a, p in zip(actual, predicted) if a != 0]
    return sum(terms) / len(terms)


def holdout_mape(train, test, **options):
    model = ExponentialSmoothing(np.asarray(train, dtype=float), seasonal_periods=7, **options)
    fitted = model.fit()
    return mape(test, fitted.forecast(len(test)))


def main(path):
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            series.setdefault(int(row["series"]), []).append(float(row["value"]))
    results = {"same_window": [], "all_history": [], "damped_same_window": []}
    for values in series.values():
        window = values[-FIT_DAYS:]
        train, test = window[:-HOLDOUT], window[-HOLDOUT:]
        results["same_window"].append(holdout_mape(train, test, trend="add", seasonal="add"))
        results["damped_same_window"].append(holdout_mape(train, test, trend="add", damped_trend=True, seasonal="add"))
        results["all_history"].append(holdout_mape(values[:-HOLDOUT], test, trend="add", seasonal="add"))
    print(json.dumps({name: {"series": len(v), "mean_mape": sum(v) / len(v)} for name, v in results.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
