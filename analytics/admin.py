from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.models import Message
from shops.scoping import ShopScopedAdmin, ShopScopedInline, copy_to_shops
from shops.services import visible_shop_ids

from . import views
from .models import QAFinding, QAReport, QARule, TrainingSession, TrainingTurn
from .roles import MANAGER_ROLES, QA_ROLES, TRAINING_ROLES
from .rule_kinds import KINDS
from .services.inspection import copy_rule_to_shop
from .services.review import review_findings

TRANSCRIPT_LIMIT = 300
RelatedOnly = admin.RelatedOnlyFieldListFilter


def input_help(field: str, lead: str):
    """A rule field's help: ``lead``, then each kind that uses the field with what it means there."""
    uses = ((kind.label, getattr(spec, f"{field}_help")) for kind, spec in KINDS.items())
    rows = format_html_join("", "<li>{}: {}</li>", ((label, text) for label, text in uses if text is not None))
    return format_html("{}<ul>{}</ul>", lead, rows)


def page(model_admin: admin.ModelAdmin, view):
    """A custom admin page: login, CSRF and the admin's template context; the view checks the shops."""
    site = model_admin.admin_site
    return site.admin_view(lambda request, **kwargs: view(request, site.each_context(request), **kwargs))


@admin.register(QARule)
class QARuleAdmin(ShopScopedAdmin):
    view_roles = QA_ROLES
    list_display = ["name", "shop", "kind", "severity", "threshold", "enabled", "updated_at"]
    list_filter = [("shop", RelatedOnly), "kind", "severity", "enabled"]
    list_editable = ["severity", "enabled"]
    search_fields = ["name", "words"]
    list_select_related = ["shop"]
    actions = [copy_to_shops]
    fields = ["shop", "name", "kind", "severity", "words", "threshold", "enabled"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "words":
            field.help_text = input_help("words", db_field.help_text)
        elif db_field.name == "threshold":
            field.help_text = input_help("threshold", _("A number above 0, for these kinds:"))
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "shop" and not request.user.is_superuser:
            # Only a superuser writes global rules (no shop); a manager's rule belongs to one of their shops.
            field.required = True
        return field

    def copy_to_shop(self, obj: QARule, shop) -> QARule:
        return copy_rule_to_shop(obj, shop)


def _highlight(text: str, evidence: str):
    """The text escaped, with the matched words marked where they appear as typed."""
    if not evidence or evidence not in text:
        return format_html("{}", text)
    parts = text.split(evidence)
    marked = format_html("<mark>{}</mark>", evidence)
    return format_html_join(marked, "{}", ((part,) for part in parts))


@admin.register(QAFinding)
class QAFindingAdmin(ShopScopedAdmin):
    view_roles = QA_ROLES
    edit_roles = QA_ROLES
    list_display = ["created_at", "shop", "kind", "severity", "actor", "agent", "evidence", "status", "reviewer"]
    list_filter = [
        ("shop", RelatedOnly),
        ("agent", RelatedOnly),
        ("rule", RelatedOnly),
        "severity",
        "status",
        "kind",
        "actor",
    ]
    list_select_related = ["shop", "agent", "reviewer"]
    search_fields = ["evidence", "comment", "message__text"]
    date_hierarchy = "created_at"
    actions = ["confirm", "dismiss"]
    fields = (
        *("status", "comment", "transcript", "shop", "rule", "kind", "severity", "actor", "agent", "evidence"),
        *("conversation", "message", "reviewer", "reviewed_at", "created_at"),
    )
    readonly_fields = tuple(f for f in fields if f not in ("status", "comment"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Reviewers confirm or dismiss; a finding is a record, removed only by a manager of its shop.
        return self._obj_allowed(request, MANAGER_ROLES, obj)

    def save_model(self, request, obj: QAFinding, form, change) -> None:
        # Through the review service: the reviewer and the time are recorded with the decision.
        review_findings(QAFinding.objects.filter(pk=obj.pk), obj.status, request.user, form.cleaned_data["comment"])

    def _review(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        findings = list(queryset)
        count = review_findings(queryset, status, request.user)
        self.log_action(request, findings, "status", "reviewer", "reviewed_at")
        self.message_user(
            request,
            ngettext("%(count)d finding reviewed.", "%(count)d findings reviewed.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Confirm selected findings"))
    def confirm(self, request, queryset):
        self._review(request, queryset, QAFinding.Status.CONFIRMED)

    @admin.action(description=_("Dismiss selected findings"))
    def dismiss(self, request, queryset):
        self._review(request, queryset, QAFinding.Status.DISMISSED)

    @admin.display(description=_("transcript"))
    def transcript(self, obj: QAFinding):
        rows = (
            Message.objects.filter(conversation_id=obj.conversation_id)
            .select_related("agent")
            .order_by("pk")[:TRANSCRIPT_LIMIT]
        )
        lines = [
            format_html(
                '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
                "qa-finding-message" if message.pk == obj.message_id else "",
                message.created_at.astimezone(obj.shop.tz).strftime("%m-%d %H:%M:%S"),  # the shop's time
                message.agent or message.get_sender_display(),
                _highlight(message.text, obj.evidence) if message.pk == obj.message_id else message.text,
            )
            for message in rows
        ]
        return format_html(
            '<table class="qa-transcript"><tbody>{}</tbody></table>'
            "<style>.qa-finding-message td {{ background: #fff3cd; color: #000; font-weight: bold; }}</style>",
            format_html_join("", "{}", ((line,) for line in lines)),
        )


@admin.register(QAReport)
class QAReportAdmin(ShopScopedAdmin):
    view_roles = QA_ROLES
    edit_roles = ()
    list_display = ["day", "shop", "scope", "agent", "conversations", "messages", "findings", "high_findings", "score"]
    list_filter = [("shop", RelatedOnly), "scope", ("agent", RelatedOnly), "day"]
    list_select_related = ["shop", "agent"]
    date_hierarchy = "day"
    readonly_fields = [
        "shop",
        "day",
        "scope",
        "agent",
        "conversations",
        "messages",
        "findings",
        "high_findings",
        "findings_by_rule",
        "score",
        "built_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # built by the nightly task (build_qa_reports)

    def get_urls(self):
        return [
            path("dashboard/", page(self, views.dashboard_view), name="analytics_dashboard"),
            path("dashboard/<int:shop_id>/", page(self, views.dashboard_view), name="analytics_shop_dashboard"),
            path("scorecards/", page(self, views.scorecards_view), name="analytics_scorecards"),
            path("value/", page(self, views.value_view), name="analytics_value"),
            path("value/<int:shop_id>/", page(self, views.value_view), name="analytics_shop_value"),
            path("experiments/", page(self, views.experiments_view), name="analytics_experiments"),
            path("experiments/<int:shop_id>/", page(self, views.experiments_view), name="analytics_shop_experiments"),
            *super().get_urls(),
        ]


class TrainingTurnInline(ShopScopedInline, admin.TabularInline):
    model = TrainingTurn
    view_roles = TRAINING_ROLES
    edit_roles = ()
    extra = 0
    fields = readonly_fields = (
        "position",
        "question",
        "reference_answer",
        "reply",
        "similarity",
        "violations",
        "score",
    )


@admin.register(TrainingSession)
class TrainingSessionAdmin(ShopScopedAdmin):
    """Managers see every trainee's sessions and progress; an agent sees their own."""

    view_roles = TRAINING_ROLES
    edit_roles = ()
    list_display = ["started_at", "shop", "trainee", "source", "status", "score", "finished_at"]
    list_filter = [("shop", RelatedOnly), ("trainee", RelatedOnly), "source", "status"]
    list_select_related = ["shop", "trainee"]
    readonly_fields = ["shop", "trainee", "source", "conversation", "status", "score", "started_at", "finished_at"]
    inlines = [TrainingTurnInline]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        managed = visible_shop_ids(request.user, MANAGER_ROLES)
        return queryset.filter(Q(shop_id__in=managed) | Q(trainee=request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions start from the training page

    def get_urls(self):
        return [
            path("practice/", page(self, views.training_start_view), name="analytics_training_start"),
            path(
                "<int:session_id>/practice/",
                page(self, views.training_practice_view),
                name="analytics_training_practice",
            ),
            *super().get_urls(),
        ]
