"""Serving bundles over HTTP: ``foveal serve``.

``create_app(load_models([(name, path)]), ServeSettings(...), FeedbackStore(dir) or None)`` builds the
FastAPI app; ``foveal.cli.serve`` runs it on uvicorn. Modules: ``settings`` (limits, keys), ``registry``
(bundles by name), ``batcher`` (micro-batching), ``uploads`` / ``images`` (streamed, checked input),
``limits`` / ``middleware`` (body, rate, keys, headers, metrics), ``api`` / ``feedback_api`` / ``pages``
(routes), ``feedback`` / ``feedback_export`` (the feedback loop), ``heatmap`` (``?explain=``).
FastAPI, uvicorn, python-multipart and prometheus-client come with ``pip install 'foveal[serve]'``.
"""
