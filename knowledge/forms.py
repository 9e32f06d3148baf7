"""Admin forms for curating knowledge: they parse input; the services do the work."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from shops.models import Shop

from .models import FAQCard
from .resources import CardImportError, check_file_size
from .shop_pack import EntryKind


class QuickRepliesField(forms.Field):
    """Quick-reply buttons typed as one line: "查物流 | 转人工客服"."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return " | ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = "" if value in self.empty_values else str(value)
        return [part.strip() for part in text.replace("\n", "|").split("|") if part.strip()]


class FAQCardForm(forms.ModelForm):
    quick_replies = QuickRepliesField(
        label=_("quick-reply buttons"), required=False, help_text=_("Separate buttons with |, e.g. 查物流 | 转人工客服")
    )

    image_url = forms.URLField(label=_("image URL"), required=False, assume_scheme="https")

    class Meta:
        model = FAQCard
        fields = [
            "shop",
            "industry",
            "question",
            "answer",
            "category",
            "enabled",
            "products",
            "quick_replies",
            "image_url",
            "valid_from",
            "valid_to",
        ]

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop")
        products = cleaned.get("products")
        if products is not None and any(shop is None or p.shop_id != shop.pk for p in products):
            self.add_error("products", _("Link only products of the card's own shop."))
        return cleaned


def limit_choices(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """Narrow a model choice field of the form to ``queryset`` (the rows this user may pick)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class ShopImportForm(ImportForm):
    """The import step asks which shop receives the cards, among the shops the user may edit."""

    shop = forms.ModelChoiceField(label=_("Import into shop"), queryset=Shop.objects.none())
    field_order = ["shop", "resource", "import_file", "format"]

    def __init__(self, formats, resources, *, shops, **kwargs) -> None:
        super().__init__(formats, resources, **kwargs)
        limit_choices(self, "shop", shops)

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_file_size(upload.size)
        except CardImportError as error:
            raise forms.ValidationError(str(error), code="too_large") from None
        return upload


class ShopConfirmImportForm(ConfirmImportForm):
    """The confirm step carries the shop again, and checks it again: it is user input too."""

    shop = forms.ModelChoiceField(queryset=Shop.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shop", shops)


class TryBotForm(forms.Form):
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none())
    text = forms.CharField(label=_("Shopper's message"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shop", shops)


class ShopsForm(forms.Form):
    shops = forms.ModelMultipleChoiceField(
        label=_("Shops"), queryset=Shop.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shops", shops)


class CardFromQuestionsForm(forms.Form):
    question = forms.CharField(label=_("standard question"), max_length=200)
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.CharField(label=_("category"), max_length=50, required=False)


class AttachToCardForm(forms.Form):
    card = forms.ModelChoiceField(label=_("Card"), queryset=FAQCard.objects.none())

    def __init__(self, *args, cards, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "card", cards)


class PackPageForm(forms.Form):
    """The language pack page's filter: which shop, which kind of entry, which word (GET)."""

    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices, initial=EntryKind.SYNONYMS)
    q = forms.CharField(label=_("Word"), max_length=50, required=False)

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shop", shops)


class PackSwitchForm(forms.Form):
    """Switch one pack entry off or back on for a shop the user edits (POST)."""

    shop = forms.ModelChoiceField(queryset=Shop.objects.none(), widget=forms.HiddenInput)
    entry_id = forms.CharField(max_length=120, widget=forms.HiddenInput)
    on = forms.TypedChoiceField(
        choices=[("1", _("Switch on")), ("0", _("Switch off"))], coerce=lambda value: value == "1"
    )

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shop", shops)


class CardsFromSourceForm(forms.Form):
    """Material for the shop's model to draft cards from: pasted text, or a PDF, DOCX or TXT file."""

    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none())
    text = forms.CharField(
        label=_("Pasted text"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("A product page's text, a size chart, a policy…"),
    )
    file = forms.FileField(label=_("Or a file"), required=False, help_text=_("PDF, DOCX or TXT, at most 5 MB."))

    def __init__(self, *args, shops, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, "shop", shops)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if not cleaned.get("text", "").strip() and not cleaned.get("file"):
            raise forms.ValidationError(_("Paste some text or choose a file."))
        return cleaned
