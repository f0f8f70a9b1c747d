"""folder_name: safe_name's answer, with no work for a name that is already safe."""

from __future__ import annotations

import random
import string

import pytest

from runlab.design.naming import folder_name
from runlab.record.layout import safe_name


@pytest.mark.parametrize(
    "text",
    [
        "lr=0.1,seed=1",
        "x",
        "_",
        "_a",
        "a_",
        ".a",
        "-a",
        "a.",
        "a-",
        "index.db",
        "a b/c",
        "é",
        "",
        "a" * 200,
        "a" * 201,
        "a" * 199 + "_",
    ],
)
def test_folder_name_is_safe_name(text):
    assert folder_name(text) == safe_name(text)


def test_folder_name_is_safe_name_on_random_texts():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "_.,+=@%-/ :é"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert folder_name(text) == safe_name(text), text
