"""Admin pages of the analytics app: the KPI dashboard (one shop or all of a manager's), the agents'
scorecards and the trainee's practice pages. Wrapped in admin_site.admin_view by the admin; each page
checks the user's shops itself."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from knowledge.experiments import keep_answer
from knowledge.models import AnswerExperiment
from shops.services import visible_shops
from shops.spreadsheets import CsvWriter

from .forms import DashboardForm, KeepAnswerForm, PeriodForm, StartTrainingForm, TrainingReplyForm
from .models import TrainingSession
from .roles import EXPERIMENT_ROLES, MANAGER_ROLES, QA_ROLES, TRAINING_ROLES
from .services.dashboard import Dashboard, build_dashboard, cost_per_agent_day_default
from .services.reports import scorecards
from .services.training import TrainingUnavailable, answer_turn, current_turn, start_training
from .services.value import build_value_report, experiment_reports


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
    writer = CsvWriter(response)
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
    shops, shop = _shops(request, MANAGER_ROLES, shop_id)
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


def training_start_view(request: HttpRequest, admin_context: dict) -> HttpResponse:
    shops = visible_shops(request.user, TRAINING_ROLES)
    if not isinstance(request.user, User) or not shops.exists():
        raise PermissionDenied
    form = StartTrainingForm(request.POST or None, shops=shops)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                session = start_training(
                    form.cleaned_data["shop"],
                    request.user,
                    form.cleaned_data["source"],
                    form.cleaned_data["turns"],
                )
            except TrainingUnavailable as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("admin:analytics_training_practice", session_id=session.pk)
        status = 400
    sessions = TrainingSession.objects.filter(trainee=request.user).select_related("shop")[:20]
    context = {**admin_context, "form": form, "sessions": sessions, "title": _("Agent training (模拟客服)")}
    return TemplateResponse(request, "analytics/training_start.html", context, status=status)


def training_practice_view(request: HttpRequest, admin_context: dict, session_id: int) -> HttpResponse:
    """The trainee answers here; a manager of the shop may watch (read only). Anyone else: 404."""
    managed = visible_shops(request.user, MANAGER_ROLES)
    session = get_object_or_404(
        TrainingSession.objects.select_related("shop").filter(Q(trainee=request.user) | Q(shop__in=managed)),
        pk=session_id,
    )
    is_trainee = session.trainee_id == request.user.pk
    form = TrainingReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not is_trainee:
            raise PermissionDenied
        if form.is_valid():
            try:
                answer_turn(session, form.cleaned_data["reply"])
            except TrainingUnavailable as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("admin:analytics_training_practice", session_id=session.pk)
        status = 400
    session.refresh_from_db()
    context = {
        **admin_context,
        "title": _("Agent training (模拟客服)"),
        "session": session,
        "answered": session.turns.filter(answered_at__isnull=False).order_by("position"),
        "turn": current_turn(session),
        "total": session.turns.count(),
        "form": form if is_trainee else None,
    }
    return TemplateResponse(request, "analytics/training_practice.html", context, status=status)


def value_view(request: HttpRequest, admin_context: dict, shop_id: int | None = None) -> HttpResponse:
    """Proof of value: durable resolution, campaign holdouts, answer experiments and the bot holdout."""
    shops, shop = _shops(request, MANAGER_ROLES, shop_id)
    form = PeriodForm(request.GET)
    context = {**admin_context, "form": form, "shop": shop, "shops": shops}
    context["title"] = (
        _("Proof of value: %(shop)s") % {"shop": shop.name} if shop else _("Proof of value: all my shops")
    )
    if not form.is_valid():
        return TemplateResponse(request, "analytics/value.html", context, status=400)
    context["report"] = build_value_report(
        [s.pk for s in shops], form.cleaned_data["start"], form.cleaned_data["end"], timezone.now()
    )
    return TemplateResponse(request, "analytics/value.html", context)


def experiments_view(request: HttpRequest, admin_context: dict, shop_id: int | None = None) -> HttpResponse:
    """The answer experiments of the user's shops, B against A; a POST keeps the winner (one click)."""
    shops, shop = _shops(request, EXPERIMENT_ROLES, shop_id)
    status = 200
    if request.method == "POST":
        form = KeepAnswerForm(request.POST)
        if form.is_valid():
            experiment = get_object_or_404(
                AnswerExperiment.objects.filter(shop__in=[s.pk for s in shops]), pk=form.cleaned_data["experiment"]
            )
            try:
                keep_answer(experiment, form.cleaned_data["keep"], user=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Experiment ended: the answer kept is now the card's."))
            return redirect(request.get_full_path())
        status = 400
    context = {
        **admin_context,
        "shop": shop,
        "shops": shops,
        "title": _("Answer experiments: %(shop)s") % {"shop": shop.name} if shop else _("Answer experiments"),
        "experiments": experiment_reports([s.pk for s in shops], timezone.now()),
    }
    return TemplateResponse(request, "analytics/experiments.html", context, status=status)
