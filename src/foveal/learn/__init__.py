"""Learning from images without labels: embeddings, similarity search, clustering, self-supervised
pretraining and linear / k-NN probes.

- ``embeddings``: an :class:`~foveal.learn.embeddings.Embedder` from any bundle (a classifier's pre-logit
  features or feature vector, a ``foveal pretrain`` backbone) or a timm architecture with local weights;
  ``embed_dataset`` and the Parquet table ``foveal embed`` writes;
- ``index``: FAISS indexes (exact inner product, HNSW, IVF) in a pickle-free folder; ``search`` queries them;
- ``cluster``: k-means, agglomerative and Gaussian mixtures with ``k`` picked by silhouette or BIC, and the
  agreement metrics against known labels;
- ``pretext``, ``contrastive``, ``views``, ``objectives``, ``engine``: self-supervised pretraining as the
  ``pretrain`` training engine (the deep trainer's loop, checkpoints and DDP), writing backbone bundles;
- ``probe``: linear-probe and k-NN accuracy of frozen embeddings with few labels per class.
"""
