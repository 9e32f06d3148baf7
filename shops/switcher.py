"""The admin's shop switcher: a manager of many shops may narrow every page to one shop ("all shops" clears it).

Apart from shops.scoping so that template tags read it without importing the admin's classes (the theme's
admin module renders a widget while it loads, which loads every template tag library).
"""

from django.http import HttpRequest

CURRENT_SHOP_SESSION_KEY = "shopbee_current_shop"


def current_shop_id(request: HttpRequest) -> int | None:
    session = getattr(request, "session", None)
    value = session.get(CURRENT_SHOP_SESSION_KEY) if session is not None else None
    return value if isinstance(value, int) else None
