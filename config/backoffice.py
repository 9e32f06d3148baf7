"""The back office's frame (django-unfold, see docs/backoffice.md): the sidebar grouped by the work, the
home page of each role, and the admin's Content-Security-Policy.

Settings name these callables by path (``UNFOLD`` in config/settings.py); config composes the apps and
no app imports it. The sidebar lists what the user may open, asking each ModelAdmin itself (the shop
scoping of shops.scoping decides), so a page a role cannot open is never offered.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.forms import AuthenticationForm as ThemedAuthenticationForm

from analytics.roles import EXPERIMENT_ROLES, MANAGER_ROLES, QA_ROLES, TRAINING_ROLES
from analytics.services.home import build_home
from chat.services import serving_shop_ids
from core.login import RateLimitedAdminLoginForm
from shops.models import Membership
from shops.services import visible_shop_ids
from shops.switcher import current_shop_id

Check = Callable[[HttpRequest], bool]

# Apps whose tables are the platform's plumbing (scheduler rows, accounts): a superuser's only.
INTERNAL_APPS = frozenset({"auth", "django_celery_beat"})


def is_superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def _holds(roles) -> Check:
    return lambda request: bool(request.user.is_superuser or visible_shop_ids(request.user, roles))


def _serves(request: HttpRequest) -> bool:
    return bool(serving_shop_ids(request.user))


@dataclass(frozen=True)
class Page:
    """A sidebar entry: a model's changelist (``model`` "app_label.ModelName", the ModelAdmin decides who sees
    it) or a named page (``url`` an admin URL name or a path, ``allowed`` decides)."""

    title: Any
    icon: str
    model: str = ""
    url: str = ""
    query: str = ""
    allowed: Check | None = None


# The work, in the order a shop's team meets it. A registered model not named here still appears: in
# its app's group below (APP_GROUPS), so an admin added later is never lost from the sidebar.
NAVIGATION: list[tuple[Any, list[Page]]] = [
    (
        _("Today"),
        [
            Page(_("Home"), "home", url="admin:index"),
            Page(_("Agent console"), "support_agent", url="/agent/", allowed=_serves),
            Page(_("Unanswered questions, grouped"), "help", url="admin:knowledge_unanswered_groups"),
            Page(
                _("QA findings to review"),
                "flag",
                url="admin:analytics_qafinding_changelist",
                query="status__exact=open",
            ),
        ],
    ),
    (
        pgettext_lazy("back office navigation", "Conversations"),
        [
            Page(pgettext_lazy("back office navigation", "Conversations"), "forum", model="chat.Conversation"),
            Page(_("Work orders"), "assignment", model="chat.WorkOrder"),
            Page(_("Invoice requests"), "receipt_long", model="chat.InvoiceRequest"),
            Page(_("Customers"), "group", model="shops.Customer"),
            Page(_("Orders"), "shopping_bag", model="shops.Order"),
            Page(_("Refunds"), "currency_exchange", model="shops.Refund"),
        ],
    ),
    (
        _("Knowledge"),
        [
            Page(_("FAQ cards"), "quiz", model="knowledge.FAQCard"),
            Page(_("Try the bot"), "smart_toy", url="admin:knowledge_faqcard_try"),
            Page(_("Unanswered questions"), "contact_support", model="knowledge.UnansweredQuestion"),
            Page(_("Synonym groups"), "sync_alt", model="knowledge.SynonymGroup"),
            Page(_("Shop dictionary"), "dictionary", model="knowledge.DictionaryWord"),
            Page(_("Answer log"), "history", model="knowledge.AnswerLog"),
            Page(_("Model answers"), "auto_awesome", model="knowledge.GroundedAnswer"),
            Page(
                _("Draft cards from a document"),
                "upload_file",
                url="admin:knowledge_cardproposal_from_source",
                allowed=_holds((Membership.Role.MANAGER, Membership.Role.TRAINER)),
            ),
            Page(_("Card drafts"), "edit_note", model="knowledge.CardProposal"),
            Page(_("Answer experiments"), "science", model="knowledge.AnswerExperiment"),
            Page(_("Products"), "inventory_2", model="shops.Product"),
        ],
    ),
    (
        _("Marketing"),
        [
            Page(_("Campaigns"), "campaign", model="marketing.Campaign"),
            Page(_("Touches"), "send", model="marketing.Touch"),
            Page(_("Follow-up assistant"), "person_search", model="marketing.FollowUpCustomer"),
            Page(_("Coupons"), "confirmation_number", model="marketing.Coupon"),
            Page(_("Bundles"), "inventory", model="marketing.BundleRule"),
            Page(_("Live sessions"), "live_tv", model="marketing.LiveSession"),
        ],
    ),
    (
        _("Quality"),
        [
            Page(_("QA findings"), "flag", model="analytics.QAFinding"),
            Page(_("QA rules"), "rule", model="analytics.QARule"),
            Page(_("Agent scorecards"), "scoreboard", url="admin:analytics_scorecards", allowed=_holds(QA_ROLES)),
            Page(_("Daily QA reports"), "summarize", model="analytics.QAReport"),
            Page(_("Agent training"), "school", url="admin:analytics_training_start", allowed=_holds(TRAINING_ROLES)),
            Page(_("Training sessions"), "history_edu", model="analytics.TrainingSession"),
        ],
    ),
    (
        _("Data"),
        [
            Page(_("KPI dashboard"), "monitoring", url="admin:analytics_dashboard", allowed=_holds(MANAGER_ROLES)),
            Page(_("Proof of value"), "verified", url="admin:analytics_value", allowed=_holds(MANAGER_ROLES)),
            Page(
                _("Answer experiment results"),
                "science",
                url="admin:analytics_experiments",
                allowed=_holds(EXPERIMENT_ROLES),
            ),
            Page(_("Measurement policy"), "tune", model="chat.MeasurementPolicy"),
            Page(_("All my shops"), "storefront", url="admin:shops_shop_overview"),
        ],
    ),
    (
        _("Open platform"),
        [
            Page(_("Channels"), "hub", model="chat.ChannelConnection"),
            Page(_("Channel deliveries"), "forward_to_inbox", model="chat.ChannelDelivery"),
            Page(_("Mail records"), "mail", model="chat.EmailRecord"),
            Page(_("API keys"), "key", model="api.ApiKey"),
            Page(_("Webhooks"), "webhook", model="api.WebhookSubscription"),
            Page(_("Webhook deliveries"), "outbox", model="api.WebhookDelivery"),
            Page(_("API docs"), "menu_book", url="/api/v1/docs/", allowed=_holds(MANAGER_ROLES)),
        ],
    ),
    (
        _("Settings"),
        [
            Page(_("Shops"), "store", model="shops.Shop"),
            Page(_("Quota warnings"), "warning", model="shops.QuotaWarning"),
            Page(_("Large model"), "neurology", model="shops.ModelProvider"),
            Page(_("Model usage"), "token", model="shops.ModelUsage"),
        ],
    ),
]
SETTINGS_GROUP = NAVIGATION[-1][0]
# Where a registered model that NAVIGATION does not name goes, by its app.
APP_GROUPS = {
    "chat": NAVIGATION[1][0],
    "knowledge": NAVIGATION[2][0],
    "marketing": NAVIGATION[3][0],
    "analytics": NAVIGATION[4][0],
    "api": NAVIGATION[6][0],
}


def _model_admin(label: str) -> admin.ModelAdmin | None:
    for model, model_admin in admin.site._registry.items():
        if model._meta.label == label:
            return model_admin
    return None


def _changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _can_open(request: HttpRequest, model_admin: admin.ModelAdmin) -> bool:
    if model_admin.opts.app_label in INTERNAL_APPS and not request.user.is_superuser:
        return False
    return model_admin.has_module_permission(request) and model_admin.has_view_or_change_permission(request)


def _page_entry(request: HttpRequest, page: Page) -> dict[str, Any] | None:
    if page.model:
        model_admin = _model_admin(page.model)
        if model_admin is None or not _can_open(request, model_admin):
            return None
        link = _changelist(model_admin.model)
    else:
        if page.allowed is not None and not page.allowed(request):
            return None
        if page.url.startswith("admin:") and page.allowed is None:
            # A custom page of a ModelAdmin: offered to whoever may open that ModelAdmin.
            owner = _owner_of(page.url)
            if owner is not None and not _can_open(request, owner):
                return None
        link = reverse(page.url) if page.url.startswith("admin:") else page.url
    if page.query:
        link = f"{link}?{page.query}"
    return {"title": page.title, "icon": page.icon, "link": link}


@functools.cache
def _url_owners() -> dict[str, admin.ModelAdmin]:
    """Each custom admin URL name (``get_urls``) and the ModelAdmin that serves it; the registry is fixed once
    the admin has loaded."""
    owners: dict[str, admin.ModelAdmin] = {}
    for model_admin in admin.site._registry.values():
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name:
                owners[name] = model_admin
    return owners


def _owner_of(url_name: str) -> admin.ModelAdmin | None:
    """The ModelAdmin whose get_urls names ``url_name`` (the admin index has none)."""
    return _url_owners().get(url_name.removeprefix("admin:"))


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """The sidebar for this user: the groups of the work, each with the pages the user may open."""
    named = {page.model for _title, pages in NAVIGATION for page in pages if page.model}
    extra: dict[Any, list[dict[str, Any]]] = {}
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        if model._meta.label in named or not _can_open(request, model_admin):
            continue
        group = APP_GROUPS.get(model._meta.app_label, SETTINGS_GROUP)
        extra.setdefault(group, []).append(
            {"title": model._meta.verbose_name_plural, "icon": "table", "link": _changelist(model)}
        )
    groups = []
    for title, pages in NAVIGATION:
        items = [entry for page in pages if (entry := _page_entry(request, page)) is not None]
        items += extra.get(title, [])
        if items:
            groups.append({"title": title, "collapsible": False, "items": items})
    return groups


def role_home(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The admin index: the numbers and to-dos of each role the user holds, in the shops where they hold it."""
    # The admin's shop switcher narrows the home page as it narrows every list.
    return {**context, "home": build_home(request.user, shop_id=current_shop_id(request))}


class BackOfficeLoginForm(RateLimitedAdminLoginForm, ThemedAuthenticationForm):
    """The admin's login (the failed-login limit of core.login) with the theme's inputs."""


class AdminContentSecurityPolicyMiddleware(MiddlewareMixin):
    """The back office's policy (``CONTENT_SECURITY_POLICY_ADMIN``) on every page under the admin's prefix, set
    before the general policy middleware runs, which keeps a header already there."""

    def process_response(self, request, response):
        if settings.CONTENT_SECURITY_POLICY_ADMIN and request.path.startswith(reverse("admin:index")):
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY_ADMIN)
        return response
