"""Active learning: a pool of images, strategies that pick what to label next, a labelling page,
retraining rounds, and a simulator that measures the label savings (``foveal al``)."""
