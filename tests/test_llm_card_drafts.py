"""Card drafts from the shop's large model (docs/llm.md), against the local OpenAI-compatible server: from pasted
text, a DOCX and a PDF, each quoting its source (an invented quote is dropped); accept, edit, drop; a draft answer
for a group of unanswered questions from the shop's own cards; other shops' drafts out of reach."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import crypto
from knowledge.models import CardProposal, FAQCard, UnansweredQuestion
from shops.models import Membership, ModelProvider, ModelUsage
from tests.conftest import staff_of
from tests.factories import FAQCardFactory
from tests.llm_server import Reply

pytestmark = pytest.mark.django_db

PAGE = (
    "迅驰轻跑一号跑步鞋\n鞋面：飞织网布，透气。\n中底：超临界发泡，回弹 70%。\n尺码：35-46 码，标准码，按平时尺码买。"
)


def connect_model(shop, server) -> ModelProvider:
    return ModelProvider.objects.create(
        shop=shop,
        enabled=True,
        base_url=server.url,
        model="qwen-test",
        api_key_sealed=crypto.encrypt_text("sk-x-12345678"),
    )


def trainer_client(shop) -> Client:
    client = Client()
    client.force_login(staff_of(shop, Membership.Role.TRAINER))
    return client


def cards_json(*cards: dict) -> str:
    return "好的，以下是卡片：\n" + json.dumps(list(cards), ensure_ascii=False)


def test_pasted_text_becomes_drafts_that_quote_it_and_an_invented_quote_is_dropped(shop_a, model_server):
    connect_model(shop_a, model_server)
    model_server.answer(
        Reply(
            cards_json(
                {
                    "question": "鞋码准吗",
                    "similar": ["偏码吗", "要买大一码吗"],
                    "answer": "标准码，按平时尺码买就行～",
                    "source": "尺码：35-46 码，标准码，按平时尺码买。",
                },
                {"question": "防水吗", "similar": [], "answer": "防水", "source": "鞋面防水涂层"},
            )
        )
    )
    response = trainer_client(shop_a).post(
        "/admin/knowledge/cardproposal/from-source/", {"shop": shop_a.pk, "text": PAGE}
    )
    assert response.status_code == 302
    [draft] = CardProposal.objects.all()
    assert (draft.question, draft.similar, draft.status) == ("鞋码准吗", "偏码吗\n要买大一码吗", "pending")
    assert draft.source in PAGE and draft.origin
    assert "超临界发泡" in model_server.received[0].prompt
    assert list(ModelUsage.objects.values_list("purpose", flat=True)) == ["card_drafts"]


def docx_bytes(text: str) -> bytes:
    from docx import Document

    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF with ASCII text in Helvetica, written by hand (objects, xref, trailer)."""
    stream = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({line}) Tj 0 -16 Td" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


@pytest.mark.parametrize(
    ("name", "content", "quote"),
    [
        ("manual.docx", docx_bytes(PAGE), "中底：超临界发泡，回弹 70%。"),
        ("manual.pdf", pdf_bytes(["Battery: 5000 mAh.", "Full charge in 2 hours."]), "Full charge in 2 hours."),
    ],
)
def test_an_uploaded_manual_is_read_and_drafted_from(shop_a, model_server, name, content, quote):
    connect_model(shop_a, model_server)
    model_server.answer(Reply(cards_json({"question": "问", "similar": [], "answer": "答", "source": quote})))
    upload = SimpleUploadedFile(name, content)
    response = trainer_client(shop_a).post(
        "/admin/knowledge/cardproposal/from-source/", {"shop": shop_a.pk, "text": "", "file": upload}
    )
    assert response.status_code == 302
    assert CardProposal.objects.get().origin == name
    assert quote in model_server.received[0].prompt


def test_an_unreadable_file_or_no_model_is_a_form_error_and_nothing_is_drafted(shop_a, model_server):
    client = trainer_client(shop_a)
    broken = SimpleUploadedFile("manual.pdf", b"%PDF-1.4 not really")
    response = client.post("/admin/knowledge/cardproposal/from-source/", {"shop": shop_a.pk, "file": broken})
    assert response.status_code == 200 and "文件无法读取" in response.content.decode()
    response = client.post("/admin/knowledge/cardproposal/from-source/", {"shop": shop_a.pk, "text": PAGE})
    assert "本店没有启用大模型" in response.content.decode()
    exe = SimpleUploadedFile("manual.exe", b"MZ")
    response = client.post("/admin/knowledge/cardproposal/from-source/", {"shop": shop_a.pk, "file": exe})
    assert "只支持 PDF、DOCX 和 TXT 文件" in response.content.decode()
    assert not CardProposal.objects.exists() and model_server.received == []


def test_a_trainer_edits_accepts_and_drops_drafts_and_another_shops_are_out_of_reach(shop_a, shop_b):
    keep = CardProposal.objects.create(
        shop=shop_a, question="鞋码准吗", similar="偏码吗", answer="标准码", source="标准码", origin="粘贴的文字"
    )
    drop = CardProposal.objects.create(shop=shop_a, question="x", answer="y", source="z", origin="o")
    foreign = CardProposal.objects.create(shop=shop_b, question="别家", answer="y", source="z", origin="o")
    client = trainer_client(shop_a)
    client.post(
        f"/admin/knowledge/cardproposal/{keep.pk}/change/",
        {"question": "鞋码标准吗", "similar": "偏码吗\n要买大一码吗", "answer": "标准码，按平时尺码买"},
    )
    client.post("/admin/knowledge/cardproposal/", {"action": "accept", "_selected_action": [keep.pk]})
    client.post("/admin/knowledge/cardproposal/", {"action": "drop", "_selected_action": [drop.pk]})
    card = FAQCard.objects.get(shop=shop_a)
    assert (card.question, card.answer) == ("鞋码标准吗", "标准码，按平时尺码买")
    assert set(card.similar_questions.values_list("text", flat=True)) == {"偏码吗", "要买大一码吗"}
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.status, keep.card, drop.status) == ("accepted", card, "dropped")
    assert client.get(f"/admin/knowledge/cardproposal/{foreign.pk}/change/").status_code in (302, 404)
    assert "别家" not in client.get("/admin/knowledge/cardproposal/").content.decode()


def test_a_group_of_unanswered_questions_gets_a_draft_answer_from_the_shops_own_cards(shop_a, shop_b, model_server):
    connect_model(shop_a, model_server)
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="付款后48小时内发货", similar=["几天发货"])
    FAQCardFactory(shop=shop_b, question="什么时候发货", answer="店铺B当天发货")
    questions = [
        UnansweredQuestion.objects.create(shop=shop_a, text=text, normalized=text, last_asked_at="2026-11-30T10:00Z")
        for text in ("今天下单几天能发货呀", "多久能发出")
    ]
    model_server.answer(
        Reply(
            cards_json(
                {
                    "question": "下单后多久发货",
                    "similar": ["多久发出"],
                    "answer": "亲，付款后48小时内发货哦",
                    "source": "付款后48小时内发货",
                }
            )
        )
    )
    response = trainer_client(shop_a).post(
        "/admin/knowledge/unansweredquestion/",
        {"action": "draft_answer", "_selected_action": [q.pk for q in questions]},
    )
    draft = CardProposal.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/cardproposal/{draft.pk}/change/")
    assert draft.answer == "亲，付款后48小时内发货哦" and "今天下单几天能发货呀" in draft.similar
    prompt = model_server.received[0].prompt
    assert "付款后48小时内发货" in prompt and "店铺B" not in prompt
