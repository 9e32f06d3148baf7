"""WebSocket routes of every app, in one list for the ASGI router."""

from analytics.routing import websocket_urlpatterns as analytics_routes
from chat.routing import websocket_urlpatterns as chat_routes

websocket_urlpatterns: list = [*analytics_routes, *chat_routes]
