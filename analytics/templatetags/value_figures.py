"""How the value pages write a lift: the difference, its 95% interval and what it means, in the reader's words."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..statistics import AmountComparison, Comparison, Verdict

register = template.Library()


def _verdict_text(verdict: Verdict) -> str:
    return {
        Verdict.TOO_SMALL: _("sample too small to conclude"),
        Verdict.HIGHER: _("higher, beyond chance"),
        Verdict.LOWER: _("lower, beyond chance"),
        Verdict.NO_DIFFERENCE: _("no difference shown yet"),
    }[verdict]


def _number(value: float, unit: str) -> str:
    """+3.2 pp, -¥12.50: the sign always, points with one decimal, yuan with two."""
    if unit == "¥":
        return f"{'-' if value < 0 else '+'}¥{abs(value):.2f}"
    return f"{value:+.1f} {unit}"


@register.simple_tag
def lift(comparison: Comparison | AmountComparison | None, unit: str = "pp"):
    """ "+3.2 pp (95% CI -1.0 pp to +7.4 pp) no difference shown yet"; "—" when there is nothing to compare."""
    if comparison is None:
        return "—"
    interval = comparison.difference
    verdict = _verdict_text(comparison.verdict)
    if interval is None:
        return format_html('<span class="value-verdict value-{}">{}</span>', comparison.verdict, verdict)
    return format_html(
        '<strong class="value-lift">{}</strong><br><small class="value-ci">({} {} {} {})</small><br>'
        '<span class="value-verdict value-{}">{}</span>',
        _number(interval.estimate, unit),
        _("95% CI"),
        _number(interval.low, unit),
        _("to"),
        _number(interval.high, unit),
        comparison.verdict,
        verdict,
    )


@register.filter
def rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"
