from django.contrib import admin
from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("chat/<slug:slug>/", views.shopper_chat, name="shopper"),
    path("chat/<slug:slug>/embed/", views.embedded_chat, name="embedded"),
    path("widget/<slug:slug>/config", views.widget_config, name="widget-config"),
    path("widget.js", views.widget_script, name="widget-script"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("channels/wecom/<int:connection_id>/callback", views.wecom_callback, name="wecom-callback"),
    path("agent/", admin.site.admin_view(views.agent_console), name="agent-console"),
    path(
        "agent/attachments/<int:attachment_id>/",
        admin.site.admin_view(views.email_attachment),
        name="attachment",
    ),
]
