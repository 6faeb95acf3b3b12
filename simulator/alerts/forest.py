"""``method: isolation_forest``: scikit-learn's IsolationForest over one or more metrics per
evaluation interval, trained on the run's first ``train`` seconds.

Why this shape: an isolation forest learns what "normal" looks like from examples instead of
assuming a distribution, so it needs a stretch of normal traffic to learn from: the rule only
collects feature rows (evaluations where every metric has data) until ``train`` has passed, fits
once, then judges each evaluation (anomalous when the forest predicts an outlier, i.e. its score is
below the threshold the ``contamination`` share sets on the training rows). The forest's random
state comes from the scenario's streams (``alert.<name>.isolation_forest``), and it runs on one
thread, so runs repeat bit for bit with the seed and across ``--jobs``.

scikit-learn is an optional extra (``pip install cascade-sim[anomaly]``); validation refuses a
scenario that needs it without it, with one line (``simulator.scenario.alerts.sklearn_available``).
"""

from __future__ import annotations

import numpy as np

N_TREES = 100


class Forest:
    """Collects rows until ``train`` seconds, then fits and judges each new row."""

    def __init__(self, train: float, contamination: float, random_state: int):
        self.train, self.contamination, self.random_state = train, contamination, random_state
        self.rows: list[list[float]] = []
        self.model = None

    def observe(self, t: float, row: list[float]) -> tuple[bool, float]:
        """(anomalous, score): the forest's score (lower: more anomalous); 0 while training."""
        if self.model is None and t <= self.train:
            self.rows.append(row)
            return False, 0.0
        if self.model is None:
            self._fit()
        if self.model is None:  # no row to learn from: nothing is judged
            return False, 0.0
        x = np.asarray([row], dtype=float)
        return bool(self.model.predict(x)[0] == -1), float(self.model.decision_function(x)[0])

    def _fit(self) -> None:
        if len(self.rows) < 2:
            self.rows = []
            return
        from sklearn.ensemble import IsolationForest

        self.model = IsolationForest(n_estimators=N_TREES, contamination=self.contamination,
                                     random_state=self.random_state, n_jobs=1)
        self.model.fit(np.asarray(self.rows, dtype=float))
        self.rows = []
