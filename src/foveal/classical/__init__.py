"""Classical models: scikit-learn classifiers over hand-made features."""
