"""Tabular data through a scikit-learn Pipeline: StandardScaler -> SCGC*.

A plain feature matrix has no graph: SCGC* then builds a cosine k-nearest-neighbour graph
(``n_neighbors``, default 10) and uses it for its contrastive positives. Being a
scikit-learn clusterer, it fits in a ``Pipeline`` and is ``clone``-able.

Run: ``python examples/tabular_pipeline.py`` (a few seconds).
"""

from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from graphclust import SCGCStar, evaluate

X, y = load_iris(return_X_y=True)

# features="none": the pipeline already standardises, so SCGC* must not transform again.
# A small encoder and few epochs suit 150 samples and keep the example to seconds.
pipeline = make_pipeline(
    StandardScaler(),
    SCGCStar(n_clusters=3, features="none", hidden_dims=(64, 32), embedding_dim=8,
             max_epochs=60, pretrain_epochs=20, random_state=0),
)
labels = pipeline.fit_predict(X)
print("iris:", {k: round(v, 3) for k, v in evaluate(y, labels).items()})

# New rows go through the fitted scaler and encoder; no graph is needed to predict.
print("predictions for three new flowers:", pipeline.predict(X[[0, 60, 120]] + 0.05))
