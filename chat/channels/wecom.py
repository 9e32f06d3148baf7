"""WeCom customer service (微信客服): shoppers write from WeChat to the shop's customer-service account.

The merchant enters the corp id, the customer-service Secret, and the callback's Token and EncodingAESKey
(the secrets are encrypted at rest). WeCom calls the callback URL (``chat.views.wecom_callback``) with an
encrypted event that only says "there are messages"; ``chat.channels.wecom_sync`` then pulls them with
``kf/sync_msg`` from the stored cursor. Replies go out with ``kf/send_msg`` as text: product cards as
lines with their link, quick replies numbered.
"""

from django.utils.translation import gettext_lazy as _

from chat.models import ChannelConnection

from .base import PRODUCT_URL, ChannelError, ChannelSpec, Field, Outgoing, secrets_of
from .wecom_client import CORP_ID, SECRET, WeComClient
from .wecom_crypto import CryptoError, WeComCrypto

TOKEN = "token"
AES_KEY = "encoding_aes_key"
# WeCom takes at most 2,048 bytes of text per message.
MAX_TEXT_BYTES = 2048


def split_conversation(external_id: str) -> tuple[str, str]:
    """A WeCom conversation's id is ``<open_kfid>/<external_userid>``: the account and the shopper."""
    open_kfid, _slash, user = external_id.partition("/")
    return open_kfid, user


def fit(text: str) -> str:
    """``text`` cut to WeCom's limit, on a character boundary."""
    data = text.encode()
    if len(data) <= MAX_TEXT_BYTES:
        return text
    return data[: MAX_TEXT_BYTES - 3].decode(errors="ignore") + "…"


def send(connection: ChannelConnection, outgoing: Outgoing) -> None:
    open_kfid, user = split_conversation(outgoing.external_id)
    WeComClient(connection).call(
        "kf/send_msg",
        {
            "touser": user,
            "open_kfid": open_kfid,
            # WeCom's own de-duplication: a resent attempt of this delivery carries the same id.
            "msgid": f"sb{outgoing.delivery_id}",
            "msgtype": "text",
            "text": {"content": fit(outgoing.text)},
        },
    )


def crypto_of(connection: ChannelConnection) -> WeComCrypto:
    secrets = secrets_of(connection)
    return WeComCrypto(secrets.get(TOKEN, ""), secrets.get(AES_KEY, ""), str(connection.config.get(CORP_ID, "")))


def check(connection: ChannelConnection) -> str:
    try:
        crypto_of(connection)
    except CryptoError:
        raise ChannelError("EncodingAESKey 不正确：应为企业微信后台生成的 43 位字符") from None
    WeComClient(connection).fetch_token()  # a new one: the corp id and Secret as they are now
    return "已连接企业微信：企业 ID 和 Secret 正确"


def validate_aes_key(value: str) -> None:
    try:
        WeComCrypto("", value, "")
    except CryptoError:
        raise ChannelError("EncodingAESKey 应为企业微信后台生成的 43 位字符") from None


CHANNEL = ChannelSpec(
    fields=(
        Field(CORP_ID, _("Corp ID"), _("My company → Company information → Corp ID (企业ID).")),
        Field(SECRET, _("Secret"), _("WeChat customer service → API → Secret."), secret=True),
        Field(TOKEN, _("Callback token"), _("The Token you set for the callback URL."), secret=True),
        Field(
            AES_KEY,
            _("EncodingAESKey"),
            _("The 43-character EncodingAESKey you set for the callback URL."),
            secret=True,
            validate=validate_aes_key,
        ),
        PRODUCT_URL,
    ),
    send=send,
    check=check,
)
