"""ASGI entry point: Django for HTTP, Channels consumers for WebSocket."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from knowledge.engine import load_dictionary  # noqa: E402

# jieba reads its dictionary on first use (about a second): done as the worker starts, so the first
# shopper after a deploy is answered as fast as the rest.
load_dictionary()
# What is loaded by now (Django, jieba's dictionary) lives as long as the worker: moved out of the
# garbage collector's generations, it is not walked again by every full collection under load.
gc.collect()
gc.freeze()
# Python's default (700, 10, 10) collects after every 700 allocations net; a chat message makes
# hundreds, and the collections' pauses were most of the p99 under load (README, load test: p99 at
# 500 questions/s about 400 ms with the default, 113-156 ms with these). Cycles are still collected.
gc.set_threshold(50_000, 20, 100)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Staff routes add the session and user themselves (chat.routing, analytics.routing).
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
