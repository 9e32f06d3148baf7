from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("products", views.ProductViewSet, basename="product")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("orders", views.OrderViewSet, basename="order")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("messages", views.MessageViewSet, basename="message")
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")
router.register("invoice-requests", views.InvoiceRequestViewSet, basename="invoice-request")
router.register("faq-cards", views.FAQCardViewSet, basename="faq-card")
router.register("qa-findings", views.QAFindingViewSet, basename="qa-finding")
router.register("live-sessions", views.LiveSessionViewSet, basename="live-session")
router.register("campaigns", views.CampaignResultViewSet, basename="campaign")
router.register("follow-ups", views.FollowUpViewSet, basename="follow-up")
router.register("webhooks", views.WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # As bridges call it: no trailing slash (a redirect would lose a POST's body).
    path("channels/<int:pk>/messages", views.ChannelViewSet.as_view({"post": "messages"}), name="channel-messages"),
    path("", include(router.urls)),
]
