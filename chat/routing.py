from channels.auth import AuthMiddlewareStack
from django.urls import path

from .consumers import AgentConsumer, ShopperConsumer

websocket_urlpatterns = [
    # A shopper's socket carries its own signed identity (chat.identity) and reads no session or user:
    # it skips the session and user lookups, a hop to the database thread on every connect.
    path("ws/chat/<slug:slug>/", ShopperConsumer.as_asgi()),
    path("ws/agent/", AuthMiddlewareStack(AgentConsumer.as_asgi())),
]
