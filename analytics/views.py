"""Admin pages of the analytics app: the KPI dashboard (one shop or all of a manager's) and the agents'
scorecards. Wrapped in admin_site.admin_view by the admin; each page checks the user's shops itself."""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from shops.models import Membership
from shops.services import visible_shops

from .forms import DashboardForm, PeriodForm
from .services.dashboard import Dashboard, build_dashboard, cost_per_agent_day_default
from .services.reports import scorecards

Role = Membership.Role
DASHBOARD_ROLES = (Role.MANAGER,)
QA_ROLES = (Role.MANAGER, Role.QA)


def _shops(request: HttpRequest, roles, shop_id: int | None):
    """The shops a page shows: one of the user's (404 for any other), or all of them."""
    shops = visible_shops(request.user, roles)
    if shop_id is not None:
        shop = get_object_or_404(shops, pk=shop_id)
        return [shop], shop
    shop_list = list(shops.order_by("name"))
    if not shop_list:
        raise PermissionDenied
    return shop_list, None


def _csv(dashboard: Dashboard, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Day"),
            _("Conversations"),
            _("Closed by the bot alone"),
            _("Bot-resolved share %"),
            _("Handed over"),
            _("Hand-off rate %"),
            _("Rated"),
            _("Rated 4-5"),
            _("Satisfaction %"),
        ]
    )
    for label, figures in [*dashboard.daily, (_("Total"), dashboard.totals)]:
        writer.writerow(
            [
                label,
                figures.conversations,
                figures.bot_resolved,
                figures.bot_resolved_share if figures.bot_resolved_share is not None else "",
                figures.handed_over,
                figures.handoff_rate if figures.handoff_rate is not None else "",
                figures.rated,
                figures.satisfied,
                figures.satisfaction_rate if figures.satisfaction_rate is not None else "",
            ]
        )
    return response


def dashboard_view(request: HttpRequest, admin_context: dict, shop_id: int | None = None) -> HttpResponse:
    shops, shop = _shops(request, DASHBOARD_ROLES, shop_id)
    form = DashboardForm(request.GET)
    context = {**admin_context, "form": form, "shop": shop, "shops": shops}
    context["title"] = _("KPI dashboard: %(shop)s") % {"shop": shop.name} if shop else _("KPI dashboard: all my shops")
    if not form.is_valid():
        return TemplateResponse(request, "analytics/dashboard.html", context, status=400)
    cost = form.cleaned_data["cost_per_agent_day"]
    dashboard = build_dashboard(
        [s.pk for s in shops],
        form.cleaned_data["start"],
        form.cleaned_data["end"],
        cost if cost is not None else cost_per_agent_day_default(),
    )
    if request.GET.get("format") == "csv":
        name = shop.slug if shop else "all-shops"
        return _csv(dashboard, f"shopbee-kpi-{name}-{dashboard.start}-{dashboard.end}.csv")
    chart = {
        "labels": [day.isoformat() for day, _figures in dashboard.daily],
        "conversations": [f.conversations for _day, f in dashboard.daily],
        "bot_resolved": [f.bot_resolved for _day, f in dashboard.daily],
        "handed_over": [f.handed_over for _day, f in dashboard.daily],
        "satisfaction": [f.satisfaction_rate for _day, f in dashboard.daily],
        "names": {
            "conversations": _("Conversations"),
            "bot_resolved": _("Closed by the bot alone"),
            "handed_over": _("Handed over"),
            "satisfaction": _("Satisfaction %"),
        },
    }
    query = request.GET.copy()
    query["format"] = "csv"
    context.update(dashboard=dashboard, chart=chart, csv_query=query.urlencode())
    return TemplateResponse(request, "analytics/dashboard.html", context)


def scorecards_view(request: HttpRequest, admin_context: dict) -> HttpResponse:
    shops, _shop = _shops(request, QA_ROLES, None)
    form = PeriodForm(request.GET)
    context = {**admin_context, "form": form, "title": _("Agent scorecards")}
    if not form.is_valid():
        return TemplateResponse(request, "analytics/scorecards.html", context, status=400)
    context["cards"] = scorecards([s.pk for s in shops], form.cleaned_data["start"], form.cleaned_data["end"])
    return TemplateResponse(request, "analytics/scorecards.html", context)
