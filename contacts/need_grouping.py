"""Which needs ask the same thing (同类需求), whatever category each was filed under.

A youth's question arrives as free text, and its category is whatever the cadre or the youth
picked — or "其他" when a quick log had none. Grouping by category therefore missed the same
request filed twice ("创业贷款怎么办" under 金融贷款 and under 其他) and lumped unrelated ones.

The measure: TF-IDF weighted cosine similarity of the questions' character bigrams, and needs
joined into one group when they are similar enough (single link, with a threshold high enough
that chains stay short). Why bigrams and not a word segmenter such as jieba:
- the questions are short (10–40 characters); most Chinese words are two characters, so the
  bigrams of "创业担保贷款" contain the words 创业/担保/贷款 and a segmenter adds little;
- place names, Mongolian names transcribed in Chinese and typos are not in a segmenter's
  dictionary, and bigrams still match them;
- jieba loads a 20 MB dictionary (4 s cold on this machine) in the web process, and its last
  release is from 2020.
IDF weighting makes the question words every need shares (请问, 怎么, 有没有 …) count for
little, and a short list of them is dropped outright.
Cost: the needs of a window (capped by the caller), pairs found through an inverted index of
bigrams, so only needs sharing a bigram are compared.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

# Question words and fillers of the needs desk: in almost every question, so never a reason to
# group two needs.
_STOP_TEXT = (
    "请问 怎么 么办 怎样 什么 有没 没有 需要 可以 如何 哪里 哪些 我想 想要 想了 了解 一下 是否"
    " 能不 不能 我们 你们 问一 请帮 帮忙 希望 谢谢 这个 那个 还有 现在 一个 有什 么时 时候"
    # …and the verbs of asking for anything at all: 申请/办理/报名 a loan, a grant or a course.
    " 申请 办理 报名 想找 找人 多少 材料 在哪 里报 最近"
)
STOP_BIGRAMS = frozenset(_STOP_TEXT.split())
_KEEP = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")

# Cosine at or above which two needs ask the same thing. Chosen on hand-made needs (the tests):
# the same request worded differently scores 0.45–0.9 once question words are gone; different
# requests of one category (招聘会 vs 电商培训, both about work) stay below it.
THRESHOLD = 0.45


def bigrams(text: str) -> list[str]:
    grams: list[str] = []
    for run in _KEEP.findall(text.lower()):
        if run.isascii():
            grams.append(run)
            continue
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            grams.append(run)
    return [g for g in grams if g not in STOP_BIGRAMS]


def similar_groups(
    texts: Sequence[tuple[int, str]], *, threshold: float = THRESHOLD, min_size: int = 2
) -> list[tuple[list[int], list[str]]]:
    """Groups of ids whose texts ask the same thing, largest first, each with its top terms
    (the bigrams that weigh most in the group, for a label)."""
    docs = [(pk, Counter(bigrams(text))) for pk, text in texts]
    docs = [(pk, grams) for pk, grams in docs if grams]
    n = len(docs)
    if n < min_size:
        return []
    df = Counter(g for _, grams in docs for g in grams)
    idf = {g: math.log((1 + n) / (1 + d)) + 1 for g, d in df.items()}
    vectors = []
    for _pk, grams in docs:
        # A bigram no other need contains cannot make two needs alike; kept, it would only
        # lengthen the vector. Most such bigrams straddle two words (业担 in 创业担保), so
        # dropping them is what leaves the words: the segmenter's job, done by the corpus.
        v = {g: c * idf[g] for g, c in grams.items() if df[g] > 1}
        norm = math.sqrt(sum(w * w for w in v.values()))
        vectors.append({g: w / norm for g, w in v.items()} if norm else {})
    postings: dict[str, list[int]] = defaultdict(list)
    for i, v in enumerate(vectors):
        for g in v:
            postings[g].append(i)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, v in enumerate(vectors):
        dots: dict[int, float] = defaultdict(float)
        for g, w in v.items():
            for j in postings[g]:
                if j > i:
                    dots[j] += w * vectors[j][g]
        for j, dot in dots.items():
            if dot >= threshold:
                parent[find(j)] = find(i)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[find(i)].append(i)
    groups = []
    for idx in members.values():
        if len(idx) < min_size:
            continue
        weight: Counter[str] = Counter()
        for i in idx:
            weight.update(vectors[i])
        terms = [g for g, _ in weight.most_common(3) if len(g) > 1]
        groups.append(([docs[i][0] for i in idx], terms))
    groups.sort(key=lambda group: -len(group[0]))
    return groups
