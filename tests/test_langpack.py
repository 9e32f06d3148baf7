"""The shipped Chinese e-commerce language pack: its data holds together, its loader rejects bad files,
shops override it, and places map to their shipping class."""

from collections import Counter
from pathlib import Path

import pytest

from knowledge.engine import Analyzer
from knowledge.index import build_analyzer
from knowledge.langpack import (
    ABBREVIATIONS_FILE,
    BROADER_FILE,
    GREATER_CHINA,
    MAINLAND,
    OVERSEAS,
    POINTS_FILE,
    QUESTION_TYPES_FILE,
    REGIONS_FILE,
    REMOTE,
    SYNONYMS_FILE,
    LanguagePackError,
    SynonymEntry,
    effective_synonyms,
    language_pack,
    load_pack,
)
from knowledge.text import STOPWORDS, normalize

# A small valid pack; each error test breaks one line of one file.
VALID = {
    SYNONYMS_FILE: "# test synonyms\n# version: 9\n\nlogistics\t快递\t物流 快递公司\nstock\t缺货\t断货 没货\n",
    QUESTION_TYPES_FILE: "# version: 9\nwhen\t时间\tword\t哪天 几号\nwhen\t时间\tpattern\t几号(到|发)\n",
    REGIONS_FILE: "# version: 9\n新疆\t偏远地区\t-\t新疆维吾尔自治区\n乌鲁木齐\t偏远地区\t新疆\t乌市\n",
    ABBREVIATIONS_FILE: "# version: 9\nunit\tkg\t公斤 千克\t1公斤=2斤\ndigital\ttype-c\ttypec\n",
    BROADER_FILE: "# version: 9\nfood\t坚果\t核桃 腰果\naftersales\t质量问题\t划痕\n",
    POINTS_FILE: "# version: 9\nship_time\t发货时间\tlogistics\t什么时候发货|几天发出\n"
    "invoice_when\t开票时间\tinvoice\t发票什么时候开\nship_time\t发货时间\tlogistics\t今天能发吗\n",
}


def write_pack(directory: Path, **replace: str) -> Path:
    """The valid pack with some files' text replaced; keys are file names without ".tsv"."""
    for name, text in VALID.items():
        (directory / name).write_text(replace.get(name.removesuffix(".tsv"), text), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def pack():
    return language_pack()


def test_the_shipped_pack_loads_once_per_process_with_the_version_of_its_headers(pack):
    assert language_pack() is pack
    header = (Path(__file__).parent.parent / "knowledge" / "langpack" / SYNONYMS_FILE).read_text().splitlines()[1]
    assert header == f"# version: {pack.version}"


def test_the_shipped_pack_is_large_enough_to_matter(pack):
    assert len(pack.synonyms) >= 800
    assert len(pack.regions) >= 800
    assert len(pack.abbreviations) >= 200
    assert {"when", "weight", "size", "can", "price", "where", "how", "why", "which", "yesno"} <= {
        qt.type for qt in pack.question_types
    }
    words = sum(len(group.all_words) for group in pack.synonyms)
    words += sum(len(qt.words) + len(qt.suffixes) + len(qt.patterns) for qt in pack.question_types)
    words += sum(1 + len(region.aliases) for region in pack.regions)
    words += sum(1 + len(abbreviation.equivalents) for abbreviation in pack.abbreviations)
    assert words >= 3000


def test_every_shipped_entry_has_its_own_stable_id(pack):
    entries = (*pack.synonyms, *pack.broader, *pack.question_types, *pack.regions, *pack.abbreviations, *pack.points)
    assert len(pack.entry_ids) == len(entries)
    assert {"broader:坚果", "syn:快递", "region:乌鲁木齐", "qt:when"} <= pack.entry_ids


def test_shipped_words_are_already_in_the_engines_normal_form(pack):
    words = [w for g in pack.synonyms for w in g.all_words]
    words += [w for b in pack.broader for w in (b.broader, *b.narrower)]
    words += [n for r in pack.regions for n in (r.name, *r.aliases)]
    words += [w for qt in pack.question_types for w in (*qt.words, *qt.suffixes)]
    words += [w for a in pack.abbreviations for w in (a.term, *a.equivalents)]
    assert [w for w in words if normalize(w) != w] == []


def test_each_shipped_synonym_word_maps_to_one_canonical_word(pack):
    counts = Counter(word for group in pack.synonyms for word in group.all_words)
    assert [word for word, n in counts.items() if n > 1] == []


def test_no_shipped_synonym_word_is_a_stopword_or_a_place_name(pack):
    places = {name for region in pack.regions for name in (region.name, *region.aliases)}
    words = {word for group in pack.synonyms for word in group.all_words}
    assert words & STOPWORDS == set()
    assert words & places == set()


def test_the_engine_turns_every_shipped_synonym_into_its_canonical_word(pack):
    analyzer = Analyzer(synonyms={word: group.canonical for group in pack.synonyms for word in group.words})
    # A long canonical word also brings the words inside it (退货地址 → 退货 地址): the first token is it.
    lost = {
        word: analyzer.tokens(word)
        for group in pack.synonyms
        for word in group.words
        if analyzer.tokens(word)[:1] != [group.canonical]
    }
    assert lost == {}


def test_a_narrower_word_also_speaks_of_its_broader_word_through_the_shops_synonyms():
    analyzer = build_analyzer([], [], [])
    assert {"夏威夷果", "坚果"} <= set(analyzer.tokens("夏威夷果能发顺丰吗"))
    # 没声音 is a 故障 (a synonym group), and every 故障 is a 质量问题.
    assert {"故障", "质量问题"} <= set(analyzer.tokens("耳机没声音了"))
    assert "坚果" not in analyzer.tokens("榴莲能发顺丰吗")


def test_a_shop_synonym_decides_which_word_a_broader_entry_reaches():
    analyzer = build_analyzer([], [], [("干果", ["坚果"])])
    assert {"夏威夷果", "干果"} <= set(analyzer.tokens("夏威夷果"))


def test_every_shipped_broader_word_is_reached_by_its_narrower_words(pack):
    analyzer = build_analyzer([], [], [])
    synonyms = analyzer.synonyms
    lost = {
        word: analyzer.tokens(word)
        for entry in pack.broader
        for word in entry.narrower
        if synonyms.get(entry.broader, entry.broader) not in analyzer.tokens(word)
    }
    assert lost == {}


def test_shipped_question_type_patterns_recognise_typical_questions(pack):
    types = {qt.type: qt for qt in pack.question_types}
    assert any(p.search("几号能到") for p in types["when"].patterns)
    assert any(p.search("怎么又坏了") for p in types["why"].patterns)
    assert any(p.search("包不包邮") for p in types["yesno"].patterns)
    assert "吗" in types["yesno"].suffixes
    assert "多少钱" in types["price"].words and "几斤" in types["weight"].words


@pytest.mark.parametrize(
    ("place", "region_class"),
    [
        ("乌鲁木齐", REMOTE),
        ("香港", GREATER_CHINA),
        ("新加坡", OVERSEAS),
        ("杭州", MAINLAND),
        ("乌鲁木齐市", REMOTE),
        ("新疆维吾尔自治区", REMOTE),
        ("拉萨", REMOTE),
        ("呼市", REMOTE),
        ("台北", GREATER_CHINA),
        ("悉尼", OVERSEAS),
        ("吉林市", MAINLAND),
        ("海南州", REMOTE),
        ("海南", MAINLAND),
        ("ＨＫ", GREATER_CHINA),
    ],
)
def test_a_place_name_maps_to_its_shipping_class(pack, place, region_class):
    assert pack.region_class(place) == region_class


def test_an_unknown_place_has_no_class(pack):
    assert pack.region_class("火星") is None
    assert pack.region_class("市") is None


def test_a_city_carries_its_province(pack):
    assert pack.region("喀什").parent == "新疆"
    assert pack.region("新疆").parent is None


def test_a_valid_pack_in_any_directory_loads(tmp_path):
    loaded = load_pack(write_pack(tmp_path))
    assert loaded.version == "9"
    assert loaded.synonyms[0] == SynonymEntry("syn:快递", "logistics", "快递", ("物流", "快递公司"))
    assert loaded.region_class("乌市") == REMOTE
    assert loaded.abbreviations[1].id == "abbr:digital:type-c"
    assert loaded.abbreviations[0].note == "1公斤=2斤"
    assert [(b.id, b.broader, b.narrower) for b in loaded.broader] == [
        ("broader:坚果", "坚果", ("核桃", "腰果")),
        ("broader:质量问题", "质量问题", ("划痕",)),
    ]
    # A point may take several lines; its questions are kept in file order, folded to half-width.
    assert [(p.id, p.label, p.questions) for p in loaded.points] == [
        ("point:ship_time", "发货时间", ("什么时候发货", "几天发出", "今天能发吗")),
        ("point:invoice_when", "开票时间", ("发票什么时候开",)),
    ]


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "synonyms",
            "# version: 9\nlogistics\t快递\t物流 快递公司 物流\n",
            "line 2: '物流' appears twice in the same group",
        ),
        ("synonyms", "# version: 9\nlogistics\t快递\t快递 物流\n", "line 2: '快递' appears twice in the same group"),
        ("synonyms", "# version: 9\nlogistics\t快递\t\n", "line 2: the group '快递' is empty"),
        (
            "synonyms",
            "# version: 9\nlogistics\t快递\t物流\n\nlogistics\t运输\t物流\n",
            "line 4: '物流' is already in the logistics group '快递' (line 2)",
        ),
        (
            "synonyms",
            "# version: 9\nlogistics\t快递\t物流\nstock\t快递\t断货\n",
            "line 3: a group for '快递' already exists",
        ),
        ("synonyms", "# version: 9\nshipping\t快递\t物流\n", "line 2: unknown domain 'shipping'"),
        ("synonyms", "# version: 9\nlogistics\t快递\t物流  快件\n", "line 2: an empty word"),
        (
            "synonyms",
            "# version: 9\nlogistics\tvip\tＶＩＰ会员\n",
            "line 2: 'ＶＩＰ会员' is not normalised: write it as 'vip会员'",
        ),
        ("synonyms", "# version: 9\ndigital\t接口\ttype-c\n", "line 2: 'type-c' has punctuation"),
        ("synonyms", "# version: 9\nlogistics\t快递 物流\n", "line 2: 2 tab-separated fields, expected 3"),
        ("synonyms", "logistics\t快递\t物流\n", "line 1: no '# version: ...' header line"),
        (
            "regions",
            "# regions\n# version: 10\n新疆\t偏远地区\t-\n",
            "line 2: version '10' differs from synonyms.tsv's '9'",
        ),
        ("regions", "# version: 9\n新疆\t边远\t-\n", "line 2: unknown region class '边远'"),
        ("regions", "# version: 9\n喀什\t偏远地区\t新疆\n", "line 2: the parent '新疆' is not a province or country"),
        (
            "regions",
            "# version: 9\n新疆\t偏远地区\t-\n喀什\t大陆普通\t新疆\n",
            "line 3: '喀什' is 大陆普通 but its parent '新疆' is 偏远地区",
        ),
        (
            "regions",
            "# version: 9\n新疆\t偏远地区\t-\t疆\n西藏\t偏远地区\t-\t疆\n",
            "line 3: the place name '疆' is already used",
        ),
        (
            "question_types",
            "# version: 9\nwhen\t时间\tpattern\t几号(到\n",
            "line 2: the pattern '几号(到' is not a valid regex",
        ),
        (
            "question_types",
            "# version: 9\nwhen\t时间\tword\t几号\nsize\t尺寸\tword\t几号\n",
            "the cue '几号' already belongs",
        ),
        ("question_types", "# version: 9\nwhen\t时间\tguess\t几号\n", "line 2: unknown cue kind 'guess'"),
        ("question_types", "# version: 9\nWhen\t时间\tword\t几号\n", "line 2: the type 'When' must be lower-case"),
        ("abbreviations", "# version: 9\nunit\tkg\t\n", "line 2: 'kg' has no equivalents"),
        ("abbreviations", "# version: 9\nunit\tkg\t公斤\nunit\tkg\t千克\n", "line 3: 'kg' is already defined for unit"),
        ("abbreviations", "# version: 9\nweights\tkg\t公斤\n", "line 2: unknown domain 'weights'"),
        ("broader", "# version: 9\nfood\t坚果\t\n", "line 2: the entry '坚果' has no narrower words"),
        ("broader", "# version: 9\nfood\t坚果\t坚果 核桃\n", "line 2: '坚果' cannot be narrower than itself"),
        (
            "broader",
            "# version: 9\nfood\t坚果\t核桃\nfood\t零食\t核桃\n",
            "line 3: '核桃' is already narrower than '坚果' (line 2)",
        ),
        ("broader", "# version: 9\nfood\t坚果\t核桃\nhome\t坚果\t腰果\n", "line 3: an entry for '坚果' already"),
        ("broader", "# version: 9\nsnacks\t坚果\t核桃\n", "line 2: unknown domain 'snacks'"),
        ("topics", "# version: 9\nShip\t发货时间\tlogistics\t什么时候发货\n", "line 2: 'Ship' is not a topic id"),
        ("topics", "# version: 9\nship\t发货时间\tshipping\t什么时候发货\n", "line 2: unknown domain 'shipping'"),
        ("topics", "# version: 9\nship\t发货时间\tlogistics\t什么时候发货||几天发\n", "line 2: an empty question"),
        (
            "topics",
            "# version: 9\nship\t发货时间\tlogistics\t几天发\narrive\t到货时间\tlogistics\t几天到|几天发\n",
            "line 3: '几天发' is already a question of 'ship' (line 2)",
        ),
        (
            "topics",
            "# version: 9\nship\t发货时间\tlogistics\t几天发\nship\t发货\tlogistics\t今天发吗\n",
            "line 3: 'ship' has another label or domain on an earlier line",
        ),
    ],
)
def test_a_malformed_file_fails_naming_the_file_and_the_line(tmp_path, file, text, message):
    with pytest.raises(LanguagePackError, match=f"^{file}.tsv, .*") as raised:
        load_pack(write_pack(tmp_path, **{file: text}))
    assert message in str(raised.value)


def test_one_word_may_belong_to_groups_of_different_domains(tmp_path):
    text = "# version: 9\napparel\t尺码\t码\nshoes\t鞋码\t码\n"
    loaded = load_pack(write_pack(tmp_path, synonyms=text))
    assert [g.canonical for g in loaded.synonyms] == ["尺码", "鞋码"]


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path):
    write_pack(tmp_path)
    (tmp_path / ABBREVIATIONS_FILE).write_bytes("# version: 9\nunit\tkg\t公斤\n".encode("gb18030"))
    with pytest.raises(LanguagePackError, match=r"^abbreviations\.tsv, line 2: not UTF-8$"):
        load_pack(tmp_path)


def test_a_regions_line_may_leave_out_its_aliases(tmp_path):
    loaded = load_pack(write_pack(tmp_path, regions="# version: 9\n香港\t港澳台\t-\n九龙\t港澳台\t香港\t\n"))
    assert [(r.name, r.parent, r.aliases) for r in loaded.regions] == [("香港", None, ()), ("九龙", "香港", ())]


def test_a_missing_file_is_named(tmp_path):
    write_pack(tmp_path)
    (tmp_path / REGIONS_FILE).unlink()
    with pytest.raises(LanguagePackError, match=r"regions\.tsv, line 0: the file is missing"):
        load_pack(tmp_path)


PACK_GROUPS = (
    SynonymEntry("syn:快递", "logistics", "快递", ("物流", "快递公司")),
    SynonymEntry("syn:优惠券", "promotion", "优惠券", ("券", "红包")),
    SynonymEntry("syn:缺货", "stock", "缺货", ("断货", "没货")),
)


def test_without_shop_groups_or_switches_the_pack_groups_apply_as_shipped():
    assert effective_synonyms(PACK_GROUPS, []) == PACK_GROUPS


def test_a_switched_off_pack_entry_drops_out():
    groups = effective_synonyms(PACK_GROUPS, [], switched_off={"syn:优惠券"})
    assert [g.id for g in groups] == ["syn:快递", "syn:缺货"]


def test_a_switched_off_id_the_pack_no_longer_has_is_ignored():
    assert effective_synonyms(PACK_GROUPS, [], switched_off={"syn:已删除"}) == PACK_GROUPS


def test_a_shop_group_replaces_the_pack_group_it_shares_a_member_with():
    groups = effective_synonyms(PACK_GROUPS, [("优惠", ["券", "折扣"])])
    assert [g.id for g in groups] == ["syn:快递", "syn:缺货", "shop:优惠"]
    assert groups[-1] == SynonymEntry("shop:优惠", "shop", "优惠", ("券", "折扣"))


def test_a_shop_group_replaces_the_pack_group_whose_canonical_word_it_uses():
    groups = effective_synonyms(PACK_GROUPS, [("物流", ["快递"])])
    assert [g.canonical for g in groups] == ["优惠券", "缺货", "物流"]


def test_shop_words_are_compared_in_half_width_lower_case_and_without_repeats():
    groups = effective_synonyms(
        (SynonymEntry("syn:会员", "membership", "会员", ("vip",)),), [("贵宾", ["ＶＩＰ", "vip", "贵宾"])]
    )
    assert groups == (SynonymEntry("shop:贵宾", "shop", "贵宾", ("vip",)),)
