"""Token counts for OpenAI's `usage` fields, by one stated rule, since govqa runs no language model's tokenizer.

The rule: every Han character, kana or hangul syllable is a token; so is every run of Latin letters or of
digits, and every other visible character (punctuation, symbols). Whitespace is never a token. A prompt is
counted over the text of every message the client sent; a completion over the content returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|\S")


def count_tokens(text: str) -> int:
    """Tokens of a text by the module's rule (a CJK character, a Latin word, a number or a symbol each count one)."""
    return len(TOKEN.findall(text))


def count_all(texts: Iterable[str]) -> int:
    """Tokens of several texts together."""
    return sum(count_tokens(t) for t in texts)


class PromptTokensDetails(BaseModel):
    cached_tokens: int = 0


class CompletionTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class CompletionUsage(BaseModel):
    """OpenAI's chat `usage`: tokens counted by govqa's rule (see service/usage.py)."""

    prompt_tokens: int = Field(description="tokens of the text of every message sent")
    completion_tokens: int = Field(description="tokens of the content returned")
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails = Field(default_factory=PromptTokensDetails)
    completion_tokens_details: CompletionTokensDetails = Field(default_factory=CompletionTokensDetails)


def chat_usage(prompt: Iterable[str], completion: str) -> CompletionUsage:
    """The usage of one chat completion."""
    p, c = count_all(prompt), count_tokens(completion)
    return CompletionUsage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)
