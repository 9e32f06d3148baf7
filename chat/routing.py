from django.urls import path

from .consumers import AgentConsumer, ShopperConsumer

websocket_urlpatterns = [
    path("ws/chat/<slug:slug>/", ShopperConsumer.as_asgi()),
    path("ws/agent/", AgentConsumer.as_asgi()),
]
