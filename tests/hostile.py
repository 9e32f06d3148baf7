"""Hypothesis strategies for the hostile-input suite: what a stranger can put on a socket.

Any JSON value (nested, with huge strings, NUL bytes, lone surrogates, NaN and infinities), frames of every
known type with a wrong type in any field, unknown types, and text that is not JSON at all.
"""

import json

from hypothesis import strategies as st

# Every code point, lone surrogates and NUL included (Hypothesis leaves surrogates out unless asked).
ANY_CHARACTER = st.characters(exclude_categories=())
NASTY_CHARACTER = st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "好", "\U0001f600", "\\", '"'])

# Around the limits that matter: the 64 characters of a client_msg_id, the 2,000 of a message, and the
# CHAT_MAX_FRAME_SIZE of 16,384 characters of a frame.
HUGE_STRING = st.builds(
    lambda character, size: character * size,
    st.one_of(NASTY_CHARACTER, st.sampled_from("a 好")),
    st.sampled_from([64, 65, 2000, 2001, 8000, 16384, 20000]),
)
STRINGS = st.one_of(st.text(ANY_CHARACTER, max_size=40), st.text(NASTY_CHARACTER, max_size=8), HUGE_STRING)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**80),
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(ANY_CHARACTER, max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def frames_of(types: list[str], fields: list[str]) -> st.SearchStrategy[dict]:
    """Frames of a known (or unknown) type whose fields hold any JSON value, or are missing."""
    return st.builds(
        lambda kind, values, extra: {**extra, **values, "type": kind},
        st.one_of(st.sampled_from(types), JSON_VALUES),
        st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSON_VALUES)),
        st.dictionaries(st.text(ANY_CHARACTER, max_size=10), JSON_VALUES, max_size=2),
    )


def encoded(values: st.SearchStrategy) -> st.SearchStrategy[str]:
    """The JSON text of ``values``, escaped to ASCII or not, plus text that is no JSON (or not quite)."""
    as_json = st.builds(lambda value, ascii: json.dumps(value, ensure_ascii=ascii), values, st.booleans())
    nested = st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(min_value=900, max_value=8000))
    return st.one_of(as_json, as_json.map(lambda text: text[: len(text) // 2]), st.text(ANY_CHARACTER), nested)
