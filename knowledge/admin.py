"""Trainer workflow in the admin: cards, synonyms, shop words, the unanswered queue, "try the bot".

Every admin here is shop-scoped (shops.scoping). Trainers and managers edit knowledge; agents and QA
may read it. Rows without a shop (industry templates, global synonym groups) are readable by staff and
editable by superusers only.
"""

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shops.models import Membership, Shop
from shops.scoping import (
    ModelAdminMixinBase,
    ShopScopedAdmin,
    ShopScopedImportExportMixin,
    ShopScopedInline,
    copy_to_shops,
    current_shop_id,
)
from shops.services import ALL_ROLES, visible_shop_ids, visible_shops

from . import drafting, impact, services
from .experiments import keep_answer, start_experiment
from .forms import (
    AttachToCardForm,
    CardFromQuestionsForm,
    CardsFromSourceForm,
    FAQCardForm,
    PackPageForm,
    PackSwitchForm,
    ShopConfirmImportForm,
    ShopImportForm,
    ShopsForm,
    TryBotForm,
)
from .impact import CardDraft, Draft, SynonymDraft
from .models import (
    AnswerExperiment,
    AnswerLog,
    CardProposal,
    DictionaryWord,
    FAQCard,
    GroundedAnswer,
    SimilarQuestion,
    SwitchedOffPackEntry,
    SynonymGroup,
    UnansweredQuestion,
)
from .resources import FAQCardResource
from .shop_pack import EntryKind, shop_pack_entries, switch_pack_entry

Role = Membership.Role
EDITORS = (Role.MANAGER, Role.TRAINER)


class KnowledgeRoles:
    view_roles: tuple[str, ...] = ALL_ROLES
    edit_roles: tuple[str, ...] = EDITORS


def _action_page(modeladmin, request, queryset, *, action: str, title, form, intro, submit):
    """The intermediate page of an action that needs more input: the selection rides along as hidden ids."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit": submit,
        "form": form,
        "objects": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": action,
    }
    return TemplateResponse(request, "admin/knowledge/action_form.html", context)


class SharedRowsMixin(KnowledgeRoles, ModelAdminMixinBase):
    """Rows with no shop are shared by every shop: staff read them, only superusers change them."""

    def get_queryset(self, request: HttpRequest):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        shop_ids = visible_shop_ids(request.user, set(self.view_roles) | set(self.edit_roles))
        return queryset.filter(Q(shop__in=shop_ids) | Q(shop__isnull=True))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.shop_id is None:
            return request.user.is_superuser
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.shop_id is None:
            return request.user.is_superuser
        return super().has_delete_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser and "shop" in form.base_fields:
            form.base_fields["shop"].required = True  # only a superuser writes shared rows
        return form


def _similar_texts(formsets) -> list[str]:
    """The similar questions the card form's inline holds, without the rows marked for deletion."""
    return [
        row.cleaned_data["text"]
        for formset in formsets
        for row in formset.forms
        if row.cleaned_data and not row.cleaned_data.get("DELETE")
    ]


class ImpactPreviewMixin(ModelAdminMixinBase):
    """ "预览影响" beside the save button: the change form's data is posted to ``…/preview/`` (by
    ``knowledge/impact_preview.js``), validated like a save, and the shop's recent logged questions are replayed
    with and without the change (``knowledge.impact``); nothing is saved. The normal save is untouched."""

    change_form_template = "admin/knowledge/impact_change_form.html"

    def impact_draft(self, form, formsets, obj: Any) -> tuple[Shop | None, Draft]:
        """The shop and the change the valid form describes; ``obj``: the row as saved (None when adding)."""
        raise NotImplementedError

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.impact_view)
        return [
            path("preview/", view, name="{}_{}_preview_add".format(*info)),
            path("<path:object_id>/preview/", view, name="{}_{}_preview".format(*info)),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        info = self.opts.app_label, self.opts.model_name
        context["impact_url"] = (
            reverse("admin:{}_{}_preview".format(*info), args=[quote(obj.pk)])
            if obj is not None and obj.pk
            else reverse("admin:{}_{}_preview_add".format(*info))
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def impact_view(self, request: HttpRequest, object_id: str | None = None):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id)) if object_id else None  # another shop's: 404
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        saved = copy.copy(obj)  # validating the form writes the posted values into ``obj``
        form = self.get_form(request, obj, change=obj is not None)(
            request.POST, request.FILES, instance=obj or self.model()
        )
        formsets = [
            formset_class(
                data=request.POST,
                files=request.FILES,
                instance=form.instance,
                prefix=formset_class.get_default_prefix(),
                queryset=inline.get_queryset(request),
            )
            for formset_class, inline in self.get_formsets_with_inlines(request, obj)
        ]
        context: dict[str, Any] = {"errors": [], "impact": None}
        if form.is_valid() and all(formset.is_valid() for formset in formsets):
            shop, draft = self.impact_draft(form, formsets, saved)
            if shop is None:
                context["errors"] = [_("Shared rows have no answer log of their own: choose a shop to preview.")]
            else:
                context.update(impact=impact.preview(shop, draft), shop=shop, days=impact.PREVIEW_DAYS)
        else:
            context["errors"] = [
                f"{form.fields[name].label if name in form.fields else ''} {message}".strip()
                for name, messages_ in form.errors.items()
                for message in messages_
            ] + [str(error) for formset in formsets for error in formset.errors if error]
            context["errors"] = context["errors"] or [_("Please correct the errors in the form.")]
        status = 400 if context["errors"] else 200
        return TemplateResponse(request, "admin/knowledge/impact.html", context, status=status)


class SimilarQuestionInline(KnowledgeRoles, ShopScopedInline, admin.TabularInline):
    model = SimilarQuestion
    extra = 3

    def _parent_allowed(self, request: HttpRequest, roles, obj) -> bool:
        if obj is not None and obj.shop_id is None and set(roles) & set(self.edit_roles) == set(roles):
            return request.user.is_superuser
        return super()._parent_allowed(request, roles, obj)


class CardSourceFilter(admin.SimpleListFilter):
    """Whose cards the list shows; it opens on the shops' own cards, not the ~140 shared industry templates."""

    title = _("cards")
    parameter_name = "source"
    OWN, TEMPLATES, ALL = "own", "templates", "all"

    def lookups(self, request, model_admin):
        return [(self.OWN, _("Shop cards")), (self.TEMPLATES, _("Industry templates")), (self.ALL, _("All"))]

    def value(self):
        return super().value() or self.OWN

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == self.TEMPLATES:
            return queryset.filter(shop__isnull=True)
        if self.value() == self.ALL:
            return queryset
        return queryset.filter(shop__isnull=False)


@admin.register(FAQCard)
class FAQCardAdmin(ImpactPreviewMixin, SharedRowsMixin, ShopScopedImportExportMixin, ShopScopedAdmin):
    form = FAQCardForm
    change_list_template = "admin/knowledge/faqcard/change_list.html"
    list_display = ["question", "shop", "industry", "category", "enabled", "hit_count", "last_hit_at", "updated_at"]
    list_filter = [CardSourceFilter, "shop", "industry", "category", "enabled"]
    # The cards shoppers reach most first: where a trainer's edit matters most.
    ordering = ["-hit_count", "question"]
    search_fields = ["question", "answer", "similar_questions__text"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop", "products"]
    inlines = [SimilarQuestionInline]
    readonly_fields = ("hit_count", "last_hit_at", "template", "created_by", "updated_by", "created_at", "updated_at")
    fieldsets = [
        (None, {"fields": ["shop", "industry", "question", "answer", "category", "enabled"]}),
        (_("Rich parts"), {"fields": ["products", "quick_replies", "image_url"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_to"]}),
        (
            _("History"),
            {"fields": readonly_fields, "classes": ["collapse"]},
        ),
    ]
    actions = ["import_into_shop", copy_to_shops]
    resource_classes = [FAQCardResource]
    import_form_class = ShopImportForm
    confirm_form_class = ShopConfirmImportForm

    def save_model(self, request, obj: FAQCard, form, change: bool) -> None:
        """Nothing yet: save_related writes the card with its similar questions and products at once."""

    def save_related(self, request, form, formsets, change: bool) -> None:
        # One call of the knowledge service, as the open API and the import make: same checks, same editor.
        fields = {name: value for name, value in form.cleaned_data.items() if name != "products"}
        services.save_faq_card(
            fields["shop"],
            form.instance,
            fields,
            _similar_texts(formsets),
            form.cleaned_data["products"],
            user=request.user,
        )

    def impact_draft(self, form, formsets, obj: FAQCard | None) -> tuple[Shop | None, Draft]:
        data = form.cleaned_data
        shop = data["shop"]
        return shop, CardDraft(
            obj.pk if obj is not None and shop is not None and obj.shop_id == shop.pk else None,
            data["question"],
            data["answer"],
            data["enabled"],
            tuple(_similar_texts(formsets)),
            data["valid_from"],
            data["valid_to"],
            tuple(data["quick_replies"]),
            data["image_url"],
        )

    def construct_change_message(self, request, form, formsets, add: bool = False):
        # The service, not the inline, wrote the similar questions: the history names them as one field.
        message = super().construct_change_message(request, form, [], add)
        if not add and any(formset.has_changed() for formset in formsets):
            with translation.override(None):
                message.append({"changed": {"fields": [capfirst(str(SimilarQuestion._meta.verbose_name_plural))]}})
        return message

    # Multi-shop tool (shops.scoping.copy_to_shops): a manager copies cards into the other shops they manage.
    def copy_to_shop(self, obj: FAQCard, shop) -> FAQCard:
        return services.copy_card(obj, shop, refresh=True)

    # It reads the selected templates (shared rows) and writes only into shops the user edits.
    @admin.action(description=_("Import selected template cards into a shop"), permissions=["view"])
    def import_into_shop(self, request: HttpRequest, queryset):
        templates = queryset.filter(shop__isnull=True).prefetch_related("similar_questions")
        if not templates:
            self.message_user(request, _("Select industry template cards (cards without a shop)."), messages.WARNING)
            return None
        targets = visible_shops(request.user, self.edit_roles)
        form = ShopsForm(request.POST if "apply" in request.POST else None, shops=targets)
        if form.is_valid():
            for shop in form.cleaned_data["shops"]:
                created = services.copy_cards(templates, shop, request.user)
                self.message_user(
                    request,
                    _("%(count)d template cards imported into %(shop)s.") % {"count": created, "shop": shop},
                    messages.SUCCESS,
                )
            return None
        return _action_page(
            self,
            request,
            templates,
            action="import_into_shop",
            title=_("Import industry template"),
            form=form,
            intro=_("These template cards become each chosen shop's own cards (questions it already has are kept):"),
            submit=_("Import"),
        )

    def get_import_data_kwargs(self, **kwargs) -> dict:
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    # "Try the bot": the engine's view of a message, for trainers; it writes nothing.
    def get_urls(self):
        return [
            path("try/", self.admin_site.admin_view(self.try_bot_view), name="knowledge_faqcard_try"),
            *super().get_urls(),
        ]

    def try_bot_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TryBotForm(request.POST or None, shops=visible_shops(request.user))
        explanation = None
        if request.method == "POST" and form.is_valid():
            explanation = services.explain(form.cleaned_data["shop"], form.cleaned_data["text"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Try the bot"),
            "form": form,
            "explanation": explanation,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/faqcard/try_bot.html", context)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(ImpactPreviewMixin, SharedRowsMixin, ShopScopedAdmin):
    change_list_template = "admin/knowledge/synonymgroup/change_list.html"
    list_display = ["canonical", "words", "shop", "updated_at"]
    list_filter = ["shop"]
    search_fields = ["canonical", "words"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]

    def impact_draft(self, form, formsets, obj: SynonymGroup | None) -> tuple[Shop | None, Draft]:
        shop = form.cleaned_data["shop"]
        original = obj.canonical if obj is not None and shop is not None and obj.shop_id == shop.pk else None
        instance = form.instance
        return shop, SynonymDraft(instance.canonical, tuple(instance.word_list), original=original)


@admin.register(SwitchedOffPackEntry)
class SwitchedOffPackEntryAdmin(KnowledgeRoles, ShopScopedAdmin):
    """The pack entries each shop switched off; the language pack page lists every entry and switches them."""

    change_list_template = "admin/knowledge/switchedoffpackentry/change_list.html"
    list_display = ["entry_id", "shop", "switched_off_by", "created_at"]
    list_filter = ["shop"]
    search_fields = ["entry_id"]
    list_select_related = ["shop", "switched_off_by"]
    readonly_fields = ["shop", "entry_id", "switched_off_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries are switched off on the language pack page, which checks the id

    PAGE_SIZE = 100

    def get_urls(self):
        return [
            path("pack/", self.admin_site.admin_view(self.pack_view), name="knowledge_language_pack"),
            *super().get_urls(),
        ]

    def pack_view(self, request: HttpRequest):
        """The language pack as one shop's engine sees it; a trainer switches entries off or on here."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        editable = visible_shops(request.user, self.edit_roles)
        if request.method == "POST":
            switch = PackSwitchForm(request.POST, shops=editable)
            if not switch.is_valid():
                return HttpResponseBadRequest(_("Choose an entry of a shop you edit."))
            shop, entry_id, on = (switch.cleaned_data[name] for name in ("shop", "entry_id", "on"))
            try:
                switch_pack_entry(shop, entry_id, on=on, user=request.user)
            except ValidationError as error:
                return HttpResponseBadRequest(" ".join(error.messages))
            done = _("“%(entry)s” switched on for %(shop)s.") if on else _("“%(entry)s” switched off for %(shop)s.")
            self.message_user(request, done % {"entry": entry_id, "shop": shop}, messages.SUCCESS)
            return HttpResponseRedirect(request.get_full_path())
        shops = visible_shops(request.user, set(self.view_roles) | set(self.edit_roles)).order_by("name")
        data = request.GET.copy()
        data.pop("page", None)
        if "shop" not in data:
            first = current_shop_id(request) or shops.values_list("pk", flat=True).first()
            data["shop"] = str(first or "")
        data.setdefault("kind", EntryKind.SYNONYMS)
        form = PackPageForm(data, shops=shops)
        page = shop = None
        if form.is_valid():
            shop = form.cleaned_data["shop"]
            rows = shop_pack_entries(shop, form.cleaned_data["kind"], form.cleaned_data["q"])
            page = Paginator(rows, self.PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Language pack"),
            "form": form,
            "shop": shop,
            "page": page,
            "can_edit": shop is not None and self.has_change_permission(request, SwitchedOffPackEntry(shop=shop)),
            "query_string": data.urlencode(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/switchedoffpackentry/pack.html", context)


@admin.register(DictionaryWord)
class DictionaryWordAdmin(KnowledgeRoles, ShopScopedAdmin):
    list_display = ["word", "shop", "created_at"]
    list_filter = ["shop"]
    search_fields = ["word"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]


@admin.register(UnansweredQuestion)
class UnansweredQuestionAdmin(KnowledgeRoles, ShopScopedAdmin):
    change_list_template = "admin/knowledge/unansweredquestion/change_list.html"
    list_display = ["text", "shop", "times_asked", "last_asked_at", "status", "resolved_card"]
    list_filter = ["shop", "status"]
    search_fields = ["text"]
    list_select_related = ["shop", "resolved_card"]
    readonly_fields = ["shop", "text", "normalized", "times_asked", "first_asked_at", "last_asked_at"]
    autocomplete_fields = ["resolved_card"]
    actions = ["create_card", "attach_to_card", "draft_answer", "ignore"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the bot fills the queue

    def _one_shop(self, request: HttpRequest, queryset) -> list[UnansweredQuestion] | None:
        questions = list(queryset)
        if len({q.shop_id for q in questions}) != 1:
            self.message_user(request, _("Select questions of one shop."), messages.ERROR)
            return None
        if not self.has_change_permission(request, questions[0]):
            raise PermissionDenied
        return questions

    @admin.action(description=_("Create a card from these questions"))
    def create_card(self, request: HttpRequest, queryset):
        questions = self._one_shop(request, queryset)
        if questions is None:
            return None
        leader = max(questions, key=lambda q: q.times_asked)
        form = CardFromQuestionsForm(
            request.POST if "apply" in request.POST else None, initial={"question": leader.text}
        )
        if form.is_valid():
            card = services.create_card_from_questions(questions, user=request.user, **form.cleaned_data)
            self.message_user(request, _("Card “%(card)s” created.") % {"card": card}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:knowledge_faqcard_change", args=[card.pk]))
        return _action_page(
            self,
            request,
            questions,
            action="create_card",
            title=_("Create a card from this group"),
            form=form,
            intro=_("The card's similar questions will be these questions:"),
            submit=_("Create card"),
        )

    @admin.action(description=_("Add as similar questions to a card"))
    def attach_to_card(self, request: HttpRequest, queryset):
        questions = self._one_shop(request, queryset)
        if questions is None:
            return None
        shop = questions[0].shop
        cards = FAQCard.objects.filter(shop=shop).order_by("question")
        suggested = services.suggest_answers(shop, questions[0].text, limit=1)
        form = AttachToCardForm(
            request.POST if "apply" in request.POST else None,
            cards=cards,
            initial={"card": suggested[0].card_id} if suggested else {},
        )
        if form.is_valid():
            added = services.attach_questions_to_card(questions, form.cleaned_data["card"])
            self.message_user(
                request,
                _("%(count)d similar questions added to “%(card)s”.")
                % {"count": added, "card": form.cleaned_data["card"]},
                messages.SUCCESS,
            )
            return None
        return _action_page(
            self,
            request,
            questions,
            action="attach_to_card",
            title=_("Add as similar questions to card"),
            form=form,
            intro=_("These questions become similar questions of the card you choose:"),
            submit=_("Add"),
        )

    @admin.action(description=_("Draft an answer with the large model"))
    def draft_answer(self, request: HttpRequest, queryset) -> HttpResponseRedirect | None:
        questions = list(queryset.select_related("shop"))
        if len({q.shop_id for q in questions}) != 1:
            self.message_user(request, _("Choose questions of one shop."), messages.ERROR)
            return None
        try:
            proposal = drafting.draft_for_questions(questions)
        except drafting.DraftingError as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        if proposal is None:
            self.message_user(request, _("The shop's cards and products hold no answer to these questions."))
            return None
        return HttpResponseRedirect(reverse("admin:knowledge_cardproposal_change", args=[proposal.pk]))

    @admin.action(description=_("Ignore (not a question for the bot)"))
    def ignore(self, request: HttpRequest, queryset) -> None:
        # ShopScopedAdmin runs an action only when the user edits the shop of every selected row.
        questions = list(queryset)
        count = services.ignore_questions(queryset)
        self.log_action(request, questions, "status")
        self.message_user(request, _("%(count)d questions ignored.") % {"count": count}, messages.SUCCESS)

    def get_urls(self):
        return [
            path("groups/", self.admin_site.admin_view(self.groups_view), name="knowledge_unanswered_groups"),
            *super().get_urls(),
        ]

    def groups_view(self, request: HttpRequest):
        """The open queue of every shop the user may see, grouped by similarity."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        open_questions = self.get_queryset(request).filter(status=UnansweredQuestion.Status.OPEN)
        sections = []
        for shop in visible_shops(request.user, set(self.view_roles) | set(self.edit_roles)):
            questions = list(open_questions.filter(shop=shop).order_by("-times_asked")[:300])
            if questions:
                sections.append((shop, services.group_unanswered(shop, questions)))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Unanswered questions, grouped"),
            "sections": sections,
            "opts": self.model._meta,
            "can_edit": self.has_change_permission(request),
            "changelist_url": reverse("admin:knowledge_unansweredquestion_changelist"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/knowledge/unansweredquestion/groups.html", context)


@admin.register(AnswerLog)
class AnswerLogAdmin(KnowledgeRoles, ShopScopedAdmin):
    list_display = [
        "created_at",
        "shop",
        "question",
        "card",
        "score",
        "outcome",
        "variant",
        "model_answer",
        "conversation",
    ]
    list_filter = ["shop", "outcome", "variant", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["question"]
    list_select_related = ["shop", "card", "conversation"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest):
        return services.with_model_answers(super().get_queryset(request))

    @admin.display(description=_("model answer"))
    def model_answer(self, obj: AnswerLog) -> str:
        """The model's answer sent for this logged question, with its citations, linked to its page."""
        if obj.model_answer_id is None:  # type: ignore[attr-defined]  # annotated by with_model_answers
            return "-"
        url = reverse("admin:knowledge_groundedanswer_changelist") + f"?id__exact={obj.model_answer_id}"  # type: ignore[attr-defined]
        cited = " ".join(
            [f"C{pk}" for pk in obj.model_cited_cards or []]  # type: ignore[attr-defined]
            + [f"P{pk}" for pk in obj.model_cited_products or []]  # type: ignore[attr-defined]
        )
        return format_html('{} <a href="{}" class="model-answer-citations">[{}]</a>', obj.model_answer_text, url, cited)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(GroundedAnswer)
class GroundedAnswerAdmin(KnowledgeRoles, ShopScopedAdmin):
    """The shop's model's answers that were sent (docs/llm.md), with what they cited; a good one becomes a card."""

    list_display = ["created_at", "shop", "question", "answer", "citations", "card_button", "conversation"]
    list_filter = ["shop", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["question", "answer"]
    list_select_related = ["shop", "card", "conversation"]
    date_hierarchy = "created_at"
    actions = ["make_cards"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.make_card_view)
        return [
            path("<path:object_id>/make-card/", view, name="knowledge_groundedanswer_make_card"),
            *super().get_urls(),
        ]

    @admin.display(description=_("citations"))
    def citations(self, obj: GroundedAnswer) -> str:
        cited = [f"C{pk}" for pk in obj.cited_cards] + [f"P{pk}" for pk in obj.cited_products]
        return " ".join(cited)

    @admin.display(description=_("card made from it"))
    def card_button(self, obj: GroundedAnswer) -> str:
        """The card made from the answer, or the one-click button making it. The button submits the
        changelist's own form (with its CSRF token) to the answer's make-card view: forms cannot nest."""
        if obj.card is not None:
            url = reverse("admin:knowledge_faqcard_change", args=[quote(obj.card.pk)])
            return format_html('<a href="{}">{}</a>', url, obj.card)
        url = reverse("admin:knowledge_groundedanswer_make_card", args=[quote(obj.pk)])
        return format_html(
            '<button type="submit" class="make-card-button border border-base-200 px-3 py-1 rounded-default'
            ' whitespace-nowrap dark:border-base-700" formaction="{}" formmethod="post">{}</button>',
            url,
            _("Turn into a card"),
        )

    def make_card_view(self, request: HttpRequest, object_id: str):
        """The one click: the answer (of a shop the user trains for, else 404) becomes a card, once."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        grounded = self.get_object(request, unquote(object_id))
        if not self._obj_allowed(request, self.edit_roles, grounded):
            raise PermissionDenied
        made = grounded.card_id is None
        try:
            card = services.card_from_grounded_answer(grounded, user=request.user)
        except ValidationError as error:
            self.message_user(request, f"{grounded.question}：{'; '.join(error.messages)}", messages.WARNING)
        else:
            if made:
                self.log_action(request, [grounded], "card")
            self.message_user(request, _("Card made: %(card)s") % {"card": card}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:knowledge_groundedanswer_changelist"))

    @admin.action(description=_("Turn into cards"))
    def make_cards(self, request: HttpRequest, queryset) -> None:
        answers = list(queryset)
        cards = []
        for grounded in answers:
            try:
                cards.append(services.card_from_grounded_answer(grounded, user=request.user))
            except ValidationError as error:
                self.message_user(request, f"{grounded.question}：{'; '.join(error.messages)}", messages.WARNING)
        self.log_action(request, answers, "card")
        self.message_user(request, _("%(count)d cards made.") % {"count": len(cards)}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(CardProposal)
class CardProposalAdmin(KnowledgeRoles, ShopScopedAdmin):
    """Cards the shop's large model drafted from a document or for unanswered questions (docs/llm.md): edit one,
    accept it (it becomes a card) or drop it."""

    list_display = ["question", "answer", "source", "origin", "shop", "status", "card"]
    list_filter = ["shop", "status"]
    search_fields = ["question", "answer", "source"]
    list_select_related = ["shop", "card"]
    fields = ["shop", "question", "similar", "answer", "source", "origin", "status", "card"]
    readonly_fields = ["shop", "source", "origin", "status", "card"]
    actions = ["accept", "drop"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Accept: make cards"))
    def accept(self, request: HttpRequest, queryset) -> None:
        # ShopScopedAdmin runs an action only when the user edits the shop of every selected row.
        proposals = list(queryset.filter(status=CardProposal.Status.PENDING))
        made = 0
        for proposal in proposals:
            try:
                drafting.accept_draft(proposal, user=request.user)
                made += 1
            except ValidationError as error:
                self.message_user(request, f"{proposal.question}：{'; '.join(error.messages)}", messages.WARNING)
        self.log_action(request, proposals, "status")
        self.message_user(request, _("%(count)d cards made.") % {"count": made}, messages.SUCCESS)

    @admin.action(description=_("Drop"))
    def drop(self, request: HttpRequest, queryset) -> None:
        proposals = list(queryset)
        drafting.drop_drafts(queryset)
        self.log_action(request, proposals, "status")

    def get_urls(self):
        view = self.admin_site.admin_view(self.from_source_view)
        return [path("from-source/", view, name="knowledge_cardproposal_from_source"), *super().get_urls()]

    def from_source_view(self, request: HttpRequest):
        """Paste text or upload a file; the model's proposals are listed for review."""
        shops = visible_shops(request.user, EDITORS)
        if not request.user.is_superuser and not shops.exists():
            raise PermissionDenied
        form = CardsFromSourceForm(request.POST or None, request.FILES or None, shops=shops)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload is not None:
                    if upload.size > drafting.MAX_UPLOAD_BYTES:
                        raise drafting.SourceError("文件太大了，最多 5 MB")
                    text, origin = drafting.text_of(upload.name, upload.read()), upload.name
                else:
                    text, origin = form.cleaned_data["text"], str(_("Pasted text"))
                made = drafting.propose_cards(form.cleaned_data["shop"], text, origin)
            except drafting.SourceError as error:
                form.add_error("file" if upload is not None else "text", str(error))
            except drafting.DraftingError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, _("%(count)d card drafts to review.") % {"count": len(made)})
                return HttpResponseRedirect(reverse("admin:knowledge_cardproposal_changelist") + "?status=pending")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Draft cards from a document"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/cardproposal/from_source.html", context)


class AnswerExperimentForm(forms.ModelForm):
    """Adding an experiment starts it through ``start_experiment`` once the fields are valid: the service's
    checks are the form's errors (the admin's add view is one transaction: an exception later keeps nothing)."""

    user = None  # who starts it: set by ``AnswerExperimentAdmin.get_form``

    class Meta:
        model = AnswerExperiment
        fields = ["card", "answer_b", "share_b"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                self.instance = start_experiment(
                    data["card"], data["answer_b"], user=self.user, share_b=data["share_b"]
                )
            except ValidationError as error:
                self.add_error(None, error)
        return data


@admin.register(AnswerExperiment)
class AnswerExperimentAdmin(KnowledgeRoles, ShopScopedAdmin):
    """Trainers put a second answer on trial and keep the winner (here, or with the report's one click:
    admin → 数据 → answer experiments)."""

    form = AnswerExperimentForm
    list_display = ["card", "shop", "share_b", "started_at", "ended_at", "kept", "started_by"]
    list_filter = ["shop", "kept", ("ended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["shop", "card", "started_by"]
    search_fields = ["card__question", "answer_b"]
    autocomplete_fields = ["card"]
    actions = ["keep_a", "keep_b"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["card", "answer_b", "share_b"]
        return ["shop", "card", "answer_b", "share_b", "started_at", "started_by", "ended_at", "kept", "ended_by"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # An experiment is not edited: a changed answer would mix two trials in one comparison.
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj: AnswerExperiment, form, change) -> None:
        """Nothing to save: the form started the experiment (an experiment is never edited)."""

    def _keep(self, request: HttpRequest, queryset, variant: str) -> None:
        kept = 0
        for experiment in queryset.filter(ended_at__isnull=True):
            keep_answer(experiment, variant, user=request.user)
            kept += 1
        self.log_action(request, list(queryset), "ended_at", "kept")
        self.message_user(
            request,
            ngettext("%(count)d experiment ended.", "%(count)d experiments ended.", kept) % {"count": kept},
            messages.SUCCESS,
        )

    @admin.action(description=_("End the experiment keeping answer A (the card's)"))
    def keep_a(self, request, queryset):
        self._keep(request, queryset, AnswerExperiment.Variant.A)

    @admin.action(description=_("End the experiment keeping answer B (it becomes the card's answer)"))
    def keep_b(self, request, queryset):
        self._keep(request, queryset, AnswerExperiment.Variant.B)
