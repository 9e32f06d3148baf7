from django.contrib import admin
from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("chat/<slug:slug>/", views.shopper_chat, name="shopper"),
    path("agent/", admin.site.admin_view(views.agent_console), name="agent-console"),
]
