"""Demo knowledge: the template packs, then every demo shop's cards (its pack with its own facts), synonyms and
dictionary words. Loading twice changes nothing: rows are found by their natural keys and refreshed.
"""

from django.db import transaction

from knowledge.models import DictionaryWord, SynonymGroup
from knowledge.template_packs import TEMPLATE_FACTS, install_cards, install_templates
from shops.models import Shop

SHOP_FACTS = {
    "swift-sports": {
        **TEMPLATE_FACTS,
        "carrier": "中通快递",
        "ship_time": "现货16:00前付款当天发货，16:00后次日发出",
        "free_shipping": "全店满99元包邮，鞋类商品单件包邮",
        "return_exceptions": "鞋子请在室内试穿，鞋底无磨损才能退换哦。",
        "freight_insurance": "鞋服订单都赠送运费险，非质量问题退货运费由运费险赔付",
        "presale_ship": "迅驰飞影3代预售款在付完尾款后7天内发货",
        "final_payment": "11月10日20:00至11月11日23:59",
        "coupon": "满299减30、满599减80的店铺券",
        "discount_rule": "双11期间每满300减40，上不封顶，可以跨店满减",
        "brand_guarantee": "我们是迅驰官方旗舰店，所有商品品牌直供",
        "restock": "7天左右",
        "warranty": "180天",
    },
    "lanyi-women": {
        **TEMPLATE_FACTS,
        "carrier": "圆通速递",
        "ship_time": "现货48小时内发货，预售款以详情页标注时间为准",
        "free_shipping": "全店包邮",
        "return_exceptions": "贴身衣物（睡衣）和已剪吊牌的商品除外。",
        "freight_insurance": "所有订单都赠送运费险，非质量问题退货由运费险赔付",
        "presale_ship": "秋冬新款大衣预售款在付完尾款后15天内发货",
        "final_payment": "定金支付后第3天的0点至23:59",
        "coupon": "新人无门槛10元券和满199减20的店铺券",
        "discount_rule": "全店每满200减30，可以和店铺券叠加",
        "brand_guarantee": "兰衣自有品牌自产自销",
        "restock": "10-15天",
        "warranty": "30天",
    },
    "jingjia-clean": {
        **TEMPLATE_FACTS,
        "carrier": "韵达快递",
        "ship_time": "下单后24小时内发货",
        "free_shipping": "全店满39元包邮",
        "return_exceptions": "已开封使用的消毒清洁用品不支持无理由退货。",
        "freight_insurance": "订单满59元赠送运费险，未满的非质量问题退货运费需要您自己承担",
        "presale_ship": "囤货节预售的家庭装在付完尾款后3天内发货",
        "final_payment": "活动页公布的尾款日当天",
        "coupon": "满49减5、满99减15的店铺券",
        "discount_rule": "全店满88减10、满158减25，同一订单只享受一档",
        "brand_guarantee": "净佳工厂直营，产品都有消毒产品卫生许可批件",
        "restock": "3-5天",
        "warranty": "1年",
        "shelf_life": "2年",
    },
}


# Per-shop synonym groups and the product and brand words each demo shop's segmenter keeps whole.
SHOP_SYNONYMS = {
    "swift-sports": [("跑步鞋", "跑鞋 慢跑鞋"), ("开胶", "脱胶 掉胶 开口")],
    "lanyi-women": [("起球", "起毛 球球"), ("掉色", "褪色 浮色 染色"), ("连衣裙", "裙子 长裙")],
    "jingjia-clean": [
        ("84消毒液", "84 八四 84消毒水"),
        ("婴儿", "宝宝 小孩 孩子 婴幼儿 新生儿 儿童"),
        ("孕妇", "孕妈 怀孕"),
    ],
}
SHOP_WORDS = {
    "swift-sports": ["迅驰", "飞影", "碳板", "闪电5", "冲锋衣", "速干衣", "皮肤衣", "运费险", "篮球鞋"],
    "lanyi-women": ["兰衣", "羊绒衫", "桑蚕丝", "铅笔裤", "阔腿裤", "包臀裙", "运费险", "山羊绒"],
    "jingjia-clean": ["净佳", "84消毒液", "洁厕灵", "洗衣凝珠", "洗碗块", "除霉啫喱", "疏通剂", "运费险"],
}


@transaction.atomic
def load_demo() -> None:
    install_templates()
    for slug, facts in SHOP_FACTS.items():
        shop = Shop.objects.get(slug=slug)
        install_cards(shop, shop.industry, facts)
        for canonical, words in SHOP_SYNONYMS[slug]:
            SynonymGroup.objects.update_or_create(shop=shop, canonical=canonical, defaults={"words": words})
        for word in SHOP_WORDS[slug]:
            DictionaryWord.objects.get_or_create(shop=shop, word=word)
