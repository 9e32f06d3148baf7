"""The admin pages of assignment: managers set each agent's maximum and group and the shop's rule and away
message; service hours and holidays on the shop; agents only look; another shop's rows are never shown."""

from datetime import date

import pytest
from django.urls import reverse

from chat.models import AgentSeat, ServiceDesk
from shops.models import Holiday, OpeningHours
from tests.assignment_support import holder, online_agent, set_rule, shopper_asking
from tests.conftest import shop_change_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seats(shop_a, shop_b):
    return {
        "a": AgentSeat.objects.get(user=online_agent(shop_a, "amy-a")),
        "b": AgentSeat.objects.get(user=online_agent(shop_b, "bob-b")),
    }


def test_a_manager_sees_and_changes_only_their_shops_seats(client, manager_a, seats):
    client.force_login(manager_a)
    page = client.get(reverse("admin:chat_agentseat_changelist")).content.decode()
    assert "amy-a" in page and "bob-b" not in page
    assert client.get(reverse("admin:chat_agentseat_change", args=[seats["b"].pk])).status_code == 404
    url = reverse("admin:chat_agentseat_change", args=[seats["a"].pk])
    response = client.post(url, {"max_chats": "8", "skill_group": "aftersales"})
    assert response.status_code == 302
    seats["a"].refresh_from_db()
    assert (seats["a"].max_chats, seats["a"].skill_group) == (8, "aftersales")


def test_a_maximum_out_of_range_is_refused_with_a_field_message(client, manager_a, seats):
    client.force_login(manager_a)
    response = client.post(reverse("admin:chat_agentseat_change", args=[seats["a"].pk]), {"max_chats": "0"})
    assert response.status_code == 200 and "max_chats" in response.context["adminform"].form.errors


def test_an_agent_sees_the_seats_but_cannot_change_them(client, seats):
    agent = seats["a"].user
    client.force_login(agent)
    assert client.get(reverse("admin:chat_agentseat_changelist")).status_code == 200
    url = reverse("admin:chat_agentseat_change", args=[seats["a"].pk])
    assert client.post(url, {"max_chats": "50"}).status_code == 403
    seats["a"].refresh_from_db()
    assert seats["a"].max_chats == 5


def test_raising_a_maximum_in_the_admin_lets_the_queue_through_at_once(client, manager_a, shop_a, seats):
    set_rule(shop_a, ServiceDesk.Rule.ROUND_ROBIN)
    AgentSeat.objects.filter(pk=seats["a"].pk).update(max_chats=1)
    shopper_asking(shop_a)
    queued = shopper_asking(shop_a)
    assert holder(queued) is None
    client.force_login(manager_a)
    client.post(reverse("admin:chat_agentseat_change", args=[seats["a"].pk]), {"max_chats": "2", "skill_group": ""})
    assert holder(queued) == seats["a"].user_id


def test_switching_a_shop_from_manual_assigns_its_queue(client, manager_a, shop_a, shop_b, seats):
    queued = shopper_asking(shop_a)
    desk = ServiceDesk.objects.get(shop=shop_a)
    client.force_login(manager_a)
    url = reverse("admin:chat_servicedesk_change", args=[desk.pk])
    response = client.post(url, {"shop": shop_a.pk, "rule": "least_busy", "away_message": "今天休息"})
    assert response.status_code == 302
    assert holder(queued) == seats["a"].user_id
    theirs, _ = ServiceDesk.objects.get_or_create(shop=shop_b)
    assert client.get(reverse("admin:chat_servicedesk_change", args=[theirs.pk])).status_code == 404
    assert "店铺B" not in client.get(reverse("admin:chat_servicedesk_changelist")).content.decode()


def test_a_manager_sets_service_hours_and_holidays_on_their_shop(client, manager_a, shop_a, shop_b):
    client.force_login(manager_a)
    url = reverse("admin:shops_shop_change", args=[shop_a.pk])
    data = shop_change_form(shop_a, timezone="America/New_York")
    for prefix, rows in (
        ("opening_hours", [{"weekday": "0", "opens": "09:00", "closes": "18:00"}]),
        ("holidays", [{"day": "2026-12-25", "name": "圣诞节"}]),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        for n, row in enumerate(rows):
            data |= {f"{prefix}-{n}-{key}": value for key, value in row.items()}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(OpeningHours.objects.filter(shop=shop_a).values_list("weekday", flat=True)) == [0]
    assert Holiday.objects.get(shop=shop_a).day == date(2026, 12, 25)
    assert client.get(reverse("admin:shops_shop_change", args=[shop_b.pk])).status_code == 404
