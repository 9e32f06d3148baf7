"""Tenant scoping for the Django admin.

Every ModelAdmin of shop-owned data inherits ``ShopScopedAdmin`` (inlines: ``ShopScopedInline``), which
also bring the back office's theme (django-unfold): the theme's base classes are named here and nowhere else.
A staff member sees only rows of shops where they hold a role, gets a 404 on anyone else's
object, and finds only their shops' rows among foreign-key choices and autocomplete results.
Roles decide what they may do: ``view_roles`` may read, ``edit_roles`` may add, change and delete.

A user may hold different roles in different shops (an agent here, a manager there), so a "may this user
change rows?" without the rows is never enough: every path that touches many rows at once asks per row
or per shop. Changelist bulk edit (``list_editable``) disables the inputs of rows the user may not
change; an action runs only when every selected row's shop grants the action's roles; imports need an
edit role and are bound to one of those shops; exports read ``get_queryset``, the rows the user may view.
"""

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from unfold.admin import BaseInlineMixin as ThemedInlineMixin
from unfold.admin import ModelAdmin as ThemedModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.forms import PaginationInlineFormSet
from unfold.mixins import BaseModelAdminMixin as ThemedFieldsMixin

from .models import Membership, Shop
from .services import ALL_ROLES, visible_shop_ids, visible_shops
from .spreadsheets import neutralised_dataset
from .switcher import CURRENT_SHOP_SESSION_KEY as CURRENT_SHOP_SESSION_KEY  # re-exported: the shop admin's
from .switcher import current_shop_id

Role = Membership.Role

# The mixins below run inside ModelAdmin and InlineModelAdmin classes; to mypy they are those classes.
if TYPE_CHECKING:
    AdminMixinBase = admin.options.BaseModelAdmin[Any]
    ModelAdminMixinBase = admin.ModelAdmin[Any]
    InlineMixinBase = admin.options.InlineModelAdmin[Any, Any]
else:
    AdminMixinBase = ModelAdminMixinBase = InlineMixinBase = object


def _shop_id_by_path(obj: models.Model, path: str) -> int | None:
    """Follow a lookup path such as ``shop`` or ``card__shop`` (or ``pk`` for a Shop) to a shop id."""
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    return obj.pk if last == "pk" else getattr(obj, f"{last}_id")


def _request_shop_ids(request: HttpRequest, roles: Iterable[str]) -> set[int]:
    # Memoised per request: a changelist asks for every row and every foreign-key field.
    cache = request.__dict__.setdefault("_shopbee_shop_ids", {})
    key = tuple(sorted(roles))
    if key not in cache:
        shop_ids = visible_shop_ids(request.user, key)
        current = current_shop_id(request)
        cache[key] = shop_ids & {current} if current is not None else shop_ids
    return cache[key]


class ShopScopedMixin(AdminMixinBase):
    """Foreign-key and many-to-many choices limited to the shops the user may edit."""

    view_roles: tuple[str, ...] = ALL_ROLES
    edit_roles: tuple[str, ...] = (Role.MANAGER,)

    def scoped_choices(self, request: HttpRequest, model: type[models.Model], queryset: models.QuerySet):
        if request.user.is_superuser and current_shop_id(request) is None:
            return queryset
        shop_ids = _request_shop_ids(request, self.edit_roles)
        if model is Shop:
            return queryset.filter(pk__in=shop_ids)
        if model is get_user_model():
            return queryset.filter(memberships__shop__in=shop_ids).distinct()
        related_admin = self.admin_site._registry.get(model)
        if isinstance(related_admin, ShopScopedAdmin):
            return queryset.filter(**{f"{related_admin.shop_field}__in": shop_ids})
        if any(f.name == "shop" for f in model._meta.get_fields()):
            return queryset.filter(shop__in=shop_ids)
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.scoped_choices(request, db_field.related_model, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.scoped_choices(request, db_field.related_model, field.queryset)
        return field

    def _allowed(self, request: HttpRequest, roles: Iterable[str], shop_id: int | None = None) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        shop_ids = _request_shop_ids(request, roles)
        return bool(shop_ids) if shop_id is None else shop_id in shop_ids


class VisibleShopsFilter(admin.RelatedFieldListFilter):
    """The shop filter of a changelist: the shops the user works for, never every shop's name."""

    def field_choices(self, field, request: HttpRequest, model_admin):
        roles = set(model_admin.view_roles) | set(model_admin.edit_roles)
        return [(shop.pk, str(shop)) for shop in visible_shops(request.user, roles).order_by("name")]


class ShopScopedAdmin(ShopScopedMixin, ThemedModelAdmin):
    """ModelAdmin for a model owned by a shop; ``shop_field`` is the lookup path to that shop."""

    shop_field: str = "shop"

    def copy_to_shop(self, obj: Any, shop: Shop) -> models.Model:
        """A copy of ``obj`` in ``shop``: the admins offering the ``copy_to_shops`` action implement it."""
        raise NotImplementedError(f"{type(self).__name__} offers no copy to other shops")

    def shop_id_of(self, obj: models.Model) -> int | None:
        return _shop_id_by_path(obj, self.shop_field)

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser and current_shop_id(request) is None:
            return queryset
        shop_ids = _request_shop_ids(request, set(self.view_roles) | set(self.edit_roles))
        return queryset.filter(**{f"{self.shop_field}__in": shop_ids})

    def get_list_filter(self, request: HttpRequest):
        return [
            ("shop", VisibleShopsFilter) if (entry[0] if isinstance(entry, tuple) else entry) == "shop" else entry
            for entry in super().get_list_filter(request)
        ]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        # Another shop's object is reported exactly like a missing one: 404, not a redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def log_action(self, request: HttpRequest, objects: Iterable[models.Model], *fields: str) -> None:
        """Record an action in each object's admin history, as a saved form is (Django logs only forms and
        deletions): whichever admin page changed a row, its history says who changed which fields."""
        with translation.override(None):  # stored untranslated, as Django stores a form's field labels
            labels = [capfirst(str(self.model._meta.get_field(name).verbose_name)) for name in fields]
        for obj in objects:
            self.log_change(request, obj, [{"changed": {"fields": labels}}])

    def _obj_allowed(self, request: HttpRequest, roles: Iterable[str], obj: models.Model | None) -> bool:
        return self._allowed(request, roles, None if obj is None else self.shop_id_of(obj))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, set(self.view_roles) | set(self.edit_roles))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._obj_allowed(request, set(self.view_roles) | set(self.edit_roles), obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.edit_roles)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._obj_allowed(request, self.edit_roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._obj_allowed(request, self.edit_roles, obj)

    # --- bulk paths -----------------------------------------------------------------------------------

    def rows_allowed(self, request: HttpRequest, queryset: models.QuerySet, roles: Iterable[str]) -> bool:
        """Whether every row of ``queryset`` belongs to a shop where the user holds one of ``roles``.
        Rows without a shop (shared templates, global rules) are a superuser's to change."""
        if request.user.is_superuser:
            return True
        shop_ids = set(queryset.order_by().values_list(self.shop_field, flat=True).distinct())
        return shop_ids <= _request_shop_ids(request, roles)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {
            name: (self._checked_action(action[0]), name, action[2])
            for name, action in super().get_actions(request).items()
            if action is not None  # the stubs allow None entries; Django never makes one
        }

    def _checked_action(self, action: Callable) -> Callable:
        # Django's own marker: an action whose allowed_permissions are only "view" reads its rows, and
        # get_queryset already holds only rows the user may view. Every other action changes them.
        if set(getattr(action, "allowed_permissions", ())) == {"view"}:
            return action

        @functools.wraps(action)
        def checked(modeladmin: "ShopScopedAdmin", request: HttpRequest, queryset: models.QuerySet):
            # All or nothing: a selection that reaches into a shop where the user lacks the role does nothing.
            if not modeladmin.rows_allowed(request, queryset, modeladmin.edit_roles):
                modeladmin.message_user(
                    request, _("You may not do this to rows of a shop where you lack the role."), messages.ERROR
                )
                return None
            return action(modeladmin, request, queryset)

        return checked

    def get_changelist_formset(self, request: HttpRequest, **kwargs):
        formset_class = super().get_changelist_formset(request, **kwargs)
        model_admin = self

        class ShopScopedChangelistFormSet(formset_class):  # type: ignore[misc,valid-type]  # built at run time
            """The row's own permission: a row the user may only read keeps its values, whatever is posted."""

            def _construct_form(self, i, **form_kwargs):
                form = super()._construct_form(i, **form_kwargs)
                if form.instance.pk is not None and not model_admin.has_change_permission(request, form.instance):
                    for field in form.fields.values():
                        field.disabled = True
                return form

        return ShopScopedChangelistFormSet


class ShopScopedImportExportMixin(ImportExportMixin):
    """django-import-export for a shop-owned admin (listed before ``ShopScopedAdmin``).

    An import needs an edit role and writes into one shop: its forms take ``shops`` (the shops where
    the user holds an edit role) and offer a ``shop`` field, and the resource is built with that shop.
    An export reads the changelist's rows, which ``get_queryset`` limits to the shops the user may view,
    into a spreadsheet (CSV or Excel) whose cells cannot start a formula (shops.spreadsheets).
    """

    export_formats = [base_formats.CSV, base_formats.XLSX]
    import_form_class = ImportForm
    export_form_class = ExportForm

    def get_data_for_export(self, request: HttpRequest, queryset, **kwargs):
        return neutralised_dataset(super().get_data_for_export(request, queryset, **kwargs))

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_import_form_kwargs(self, request: HttpRequest) -> dict:
        return {**super().get_import_form_kwargs(request), "shops": visible_shops(request.user, self.edit_roles)}

    def get_confirm_form_kwargs(self, request: HttpRequest, import_form=None) -> dict:
        return {
            **super().get_confirm_form_kwargs(request, import_form),
            "shops": visible_shops(request.user, self.edit_roles),
        }

    def get_confirm_form_initial(self, request: HttpRequest, import_form) -> dict:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["shop"] = import_form.cleaned_data["shop"].pk
        return initial

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs) -> dict:
        # Without a valid form (the first visit, a rejected shop) the resource only describes its columns.
        cleaned = getattr(kwargs.get("form"), "cleaned_data", None) or {}
        return {**super().get_import_resource_kwargs(request, **kwargs), "shop": cleaned.get("shop")}


class ShopScopedInline(ShopScopedMixin, ThemedInlineMixin, ThemedFieldsMixin, InlineMixinBase):
    """Inline rows follow their parent's shop: permission is checked against the parent object. Listed before
    ``admin.TabularInline`` (or ``StackedInline``), it brings the theme's widgets and inline formset."""

    formset = PaginationInlineFormSet

    def _parent_allowed(self, request: HttpRequest, roles: Iterable[str], obj) -> bool:
        if obj is None:
            return self._allowed(request, roles)
        parent_admin = self.admin_site._registry[self.parent_model]
        assert isinstance(parent_admin, ShopScopedAdmin)  # a scoped inline sits in a scoped admin
        return self._allowed(request, roles, parent_admin.shop_id_of(obj))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_allowed(request, set(self.view_roles) | set(self.edit_roles), obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_allowed(request, self.edit_roles, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_allowed(request, self.edit_roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._parent_allowed(request, self.edit_roles, obj)


class CopyToShopsForm(forms.Form):
    shops = forms.ModelMultipleChoiceField(
        label=_("Target shops"), queryset=Shop.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, shops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shops"].queryset = shops


@admin.action(description=_("Copy selected to other shops"))
def copy_to_shops(modeladmin: ShopScopedAdmin, request: HttpRequest, queryset):
    """Multi-shop tool: copy rows into other shops the user manages. The admin implements ``copy_to_shop``."""
    targets = visible_shops(request.user, (Role.MANAGER,))
    form = CopyToShopsForm(request.POST if "apply" in request.POST else None, shops=targets)
    if form.is_valid():
        with transaction.atomic():
            copies = [
                modeladmin.copy_to_shop(obj, shop)
                for shop in form.cleaned_data["shops"]
                for obj in queryset
                if modeladmin.shop_id_of(obj) != shop.pk
            ]
        modeladmin.message_user(
            request,
            _("%(count)d copies made in %(shops)s.")
            % {"count": len(copies), "shops": ", ".join(s.name for s in form.cleaned_data["shops"])},
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Copy to other shops"),
        "form": form,
        "objects": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": "copy_to_shops",
    }
    return TemplateResponse(request, "admin/shops/copy_to_shops.html", context)


def take_saved(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved instance the row a service created: the admin logs and redirects with it."""
    obj.__dict__.update(saved.__dict__)
