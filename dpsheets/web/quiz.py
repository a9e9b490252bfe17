"""一题: the five questions of a post as multiple choice.

The questions and their order are those of the post register (岗位职责 … 应急处置措施, the
help text of each field is the question). The right answer is the post's own entry; the
wrong ones are other posts' entries for the same question in the same workbook. The options'
order is fixed for a post and a day (derived from the post's token), so the server checks a
submitted answer by building the same options again — nothing to store between the two.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dpsheets.workbook.registers import POST

ANSWER_KEYS = ("duties", "hazards", "triggers", "controls", "emergency")
MAX_OPTIONS = 4


def question_text(key: str) -> str:
    """“岗位职责是什么？” from the field's help “问题一：岗位职责是什么？”."""
    help_text = POST[key].help
    return help_text.split("：", 1)[1] if "：" in help_text else POST[key].header


def question_label(key: str) -> str:
    help_text = POST[key].help
    return help_text.split("：", 1)[0] if "：" in help_text else POST[key].header


@dataclass(frozen=True)
class Question:
    key: str
    label: str  # 问题一
    header: str  # 岗位职责 (the column of the post register)
    text: str  # 岗位职责是什么？
    options: tuple[str, ...]
    right: int  # index of the right option

    @property
    def answer(self) -> str:
        return self.options[self.right]


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def build(post: Mapping[str, Any], others: Sequence[Mapping[str, Any]], seed: str) -> list[Question]:
    """The five questions of *post*; wrong options from *others* (the other posts)."""
    questions = []
    for n, key in enumerate(ANSWER_KEYS):
        right = _norm(post.get(key))
        if not right:
            continue
        pool = sorted({v for o in others if (v := _norm(o.get(key))) and v != right})
        rnd = random.Random(hashlib.sha256(f"{seed}|{n}".encode()).digest())
        wrong = rnd.sample(pool, min(len(pool), MAX_OPTIONS - 1))
        options = [right, *wrong]
        rnd.shuffle(options)
        questions.append(Question(key, question_label(key), POST[key].header, question_text(key), tuple(options),
                                  options.index(right)))
    return questions


def wrong_answers(questions: Sequence[Question], answers: Mapping[str, str | None]) -> list[Question]:
    """The questions answered wrongly (or not at all); *answers* maps field key → option index as text."""
    out = []
    for q in questions:
        given = answers.get(q.key)
        if given is None or not given.isdigit() or int(given) != q.right:
            out.append(q)
    return out
