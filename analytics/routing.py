from channels.auth import AuthMiddlewareStack
from django.urls import path

from .consumers import AlertConsumer

websocket_urlpatterns = [path("ws/alerts/", AuthMiddlewareStack(AlertConsumer.as_asgi()))]
