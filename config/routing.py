"""WebSocket routes of every app, in one list for the ASGI router."""

websocket_urlpatterns: list = []
