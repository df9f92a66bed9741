"""Batch prediction beyond one process: ``foveal predict … --engine ray`` (Ray Data, ``pip install 'foveal[ray]'``)."""
