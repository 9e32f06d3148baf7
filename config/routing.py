"""WebSocket routes of every app, in one list for the ASGI router."""

from django.conf import settings
from django.urls import path

from analytics.routing import websocket_urlpatterns as analytics_routes
from chat.routing import websocket_urlpatterns as chat_routes
from devtools.consumers import EchoConsumer

websocket_urlpatterns: list = [*analytics_routes, *chat_routes]
if settings.BENCH_ECHO:
    # The load test's floor (devtools.consumers; docs/chat.md "Load test"): off unless BENCH_ECHO=true.
    websocket_urlpatterns.append(path("ws/bench/echo/", EchoConsumer.as_asgi()))
