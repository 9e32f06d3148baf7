from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import BASE_INPUT_CLASSES

from knowledge.models import AnswerExperiment
from shops.models import Shop

from .models import TrainingSession

MAX_DAYS = 366
DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    """A date range (both days included); empty fields mean the last 30 days."""

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # the back office theme's inputs
            field.widget.attrs.setdefault("class", " ".join(BASE_INPUT_CLASSES))

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        data["start"], data["end"] = start, end
        return data


class DashboardForm(PeriodForm):
    cost_per_agent_day = forms.DecimalField(
        label=_("Cost per agent-day (¥)"), required=False, min_value=Decimal("0"), max_digits=10, decimal_places=2
    )


class StartTrainingForm(forms.Form):
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.none())
    source = forms.ChoiceField(label=_("Practise with"), choices=TrainingSession.Source.choices)
    turns = forms.IntegerField(label=_("Questions"), min_value=1, max_value=20, initial=5)

    def __init__(self, *args, shops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops


class TrainingReplyForm(forms.Form):
    reply = forms.CharField(label=_("Your reply"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class KeepAnswerForm(forms.Form):
    """The one click that ends an answer experiment keeping A or B."""

    experiment = forms.IntegerField(min_value=1)
    keep = forms.ChoiceField(choices=AnswerExperiment.Variant.choices)
