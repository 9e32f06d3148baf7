"""ASGI entry point: Django for HTTP, Channels consumers for WebSocket."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.runtime import settle_worker_memory  # noqa: E402
from knowledge.engine import load_dictionary  # noqa: E402

# jieba reads its dictionary on first use (about a second): done as the worker starts, so the first
# shopper after a deploy is answered as fast as the rest.
load_dictionary()
settle_worker_memory()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Staff routes add the session and user themselves (chat.routing, analytics.routing).
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
