"""A real uvicorn server for the fault tests: API keys on, a small rate limit, and a model ``slow``
whose inference takes SLOW_SECONDS for an all-white image (a forced slow inference).

Usage: python slow_server.py BUNDLE PORT KEY_FILE
"""

from __future__ import annotations

import sys
import time

SLOW_SECONDS = 3.0


def main(bundle: str, port: int, key_file: str) -> None:
    import uvicorn

    from foveal.serve.app import create_app
    from foveal.serve.registry import load_models
    from foveal.serve.settings import ServeSettings, read_api_keys

    models = load_models([("digits", bundle), ("slow", bundle)])
    slow = models[1].predictor
    predict_proba = slow.predict_proba

    def slow_on_white(images):
        if len(images) and (images == 255).all():
            time.sleep(SLOW_SECONDS)
        return predict_proba(images)

    slow.predict_proba = slow_on_white
    settings = ServeSettings(port=port, timeout=0.5, rate=5, burst=30, api_key_digests=read_api_keys(key_file))
    uvicorn.run(create_app(models, settings), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
