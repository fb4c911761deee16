"""Tokens and text: a small deterministic tokenizer, the chat template, and the
answers the simulated model gives.

Token counts are what the usage fields, the metrics and the prefix cache all agree
on, so one tokenizer serves them all. It splits like a byte-level BPE does at the
word level (``" is"`` is one token), which keeps counts close to a real tokenizer's
for English prose: the runbook's ``"What is Kubernetes?"`` is 4 prompt tokens.
"""

from __future__ import annotations

import hashlib
import re

_TOKEN = re.compile(r"<\|[a-z_]+\|>| ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]| ?\n|\s")

# Qwen2.5's chat template (the default system prompt is added when none is given).
DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Known prompts answer as the runbook's own test transcripts show.
_KNOWN = {
    "what is kubernetes?": (
        " (Part 1) \u2013 The basics\n\nKubernetes (k8s) is an open-source container orchestration system for "
        "automating deployment, scaling, and management of containerized applications. It groups the "
        "containers that make up an application into logical units for easy management and discovery."
    ),
    "explain docker in one sentence.": (
        " Docker is an open-source platform that uses containers to package, distribute, and run "
        "applications in isolation."
    ),
    "what is a container?": (
        "A container is a lightweight, standalone package that includes everything needed to run a piece "
        "of software: the code, a runtime, system tools, libraries and settings. Containers share the host's "
        "operating system kernel but run in isolated user spaces, so they start quickly and behave the same "
        "on a laptop, in a data center or in the cloud."
    ),
}

_CORPUS = (
    "Large language models are served by inference engines that batch many requests together, so the "
    "accelerator stays busy while each user still sees tokens arrive one after another.",
    "A key-value cache keeps the attention state of every token a request has seen; reusing it for a shared "
    "prefix saves the prefill work and shortens the time to the first token.",
    "Tensor parallelism splits each layer of the model across several chips, which lets a model larger than "
    "one chip's memory run, at the cost of communication between the chips on every step.",
    "An inference scheduler looks at each replica's queue depth, cache usage and cached prefixes, and sends "
    "the request where it will finish soonest.",
    "On a TPU the model's graphs are compiled ahead of time for a set of padded shapes, so the first requests "
    "after startup are as fast as the rest.",
    "Kubernetes schedules pods onto nodes that have the resources they request; accelerator nodes carry "
    "taints so that only workloads which ask for the accelerator land there.",
    "Latency has two parts that users feel: the time to the first token, dominated by prefill and queueing, "
    "and the time between tokens, set by the decode step of the whole batch.",
    "A gateway in front of the model servers gives clients one stable address and lets the platform add, "
    "drain and replace replicas without anyone noticing.",
)


def tokenize(text: str) -> list[str]:
    """Split text into tokens; joining them gives the text back."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens ``text`` is."""
    return len(_TOKEN.findall(text))


def chat_prompt(messages: list[dict[str, str]]) -> str:
    """The prompt a chat request becomes under the model's chat template."""
    parts = []
    if not messages or messages[0].get("role") != "system":
        parts.append(f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n")
    for message in messages:
        parts.append(f"<|im_start|>{message['role']}\n{message['content']}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def answer(prompt: str) -> list[str]:
    """The tokens the model says after ``prompt``, up to its end-of-sequence.

    Deterministic per prompt, so a repeated request gets the same text."""
    key = prompt.strip().lower()
    for known, text in _KNOWN.items():
        if key.endswith((known, known + "<|im_end|>\n<|im_start|>assistant")):
            return tokenize(text)
    digest = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")
    # Between one and four paragraphs, starting at a prompt-dependent place.
    count = 1 + digest % 4
    first = (digest >> 8) % len(_CORPUS)
    text = " " + " ".join(_CORPUS[(first + i) % len(_CORPUS)] for i in range(count))
    return tokenize(text)
