"""The pieces under the LLM client: the SSE parser, distributions, prompt files and synthetic prompts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from podium.benchmarks.llm.prompts import load_prompts, synthetic_prompts
from podium.distributions import parse_distribution
from podium.errors import PodiumError
from podium.llm.client import endpoint_url
from podium.llm.sse import SSEParser


def test_sse_events_split_anywhere_and_every_line_ending():
    stream = b'data: {"a": 1}\r\n\r\n: a comment\n\nevent: error\ndata: x\ndata: y\n\rdata: [DONE]\r\r\n'
    for cut in range(1, len(stream)):
        p = SSEParser()
        events = p.feed(stream[:cut]) + p.feed(stream[cut:])
        assert [(e.event, e.data) for e in events] == [("message", '{"a": 1}'), ("error", "x\ny"),
                                                       ("message", "[DONE]")], cut
        assert not p.pending()


def test_a_stream_cut_mid_event_is_pending():
    p = SSEParser()
    assert p.feed(b"data: {\"partial") == [] and p.pending()


def test_distributions_draw_deterministically_and_refuse_bad_text():
    d = parse_distribution("normal:50,5", "--ttft-ms")
    a = d.sample(np.random.default_rng(1), 1000)
    assert np.array_equal(a, d.sample(np.random.default_rng(1), 1000)) and abs(a.mean() - 50) < 1
    assert parse_distribution("7", "x").sample(np.random.default_rng(0), 3).tolist() == [7, 7, 7]
    ln = parse_distribution("lognormal:100,30", "x").sample(np.random.default_rng(0), 20000)
    assert abs(ln.mean() - 100) < 2 and abs(ln.std() - 30) < 2
    for bad, why in (("gauss:1,2", "unknown distribution 'gauss'"), ("normal:1", "expected a number"),
                     ("uniform:5,1", "LOW <= HIGH"), ("-3", "expected a number")):
        with pytest.raises(PodiumError, match=why):
            parse_distribution(bad, "--ttft-ms")


def test_endpoint_urls():
    assert endpoint_url("openai+http://h:1", "chat") == "http://h:1/v1/chat/completions"
    assert endpoint_url("openai+https://h:1/api/v2/", "completions") == "https://h:1/api/v2/completions"
    with pytest.raises(PodiumError, match="expected openai\\+http://host:port"):
        endpoint_url("openai+grpc://h:1", "chat")


def test_prompt_files_in_every_format(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"prompt": "a b c", "max_tokens": 5}\n\n{"messages": [{"role": "user", '
                                      '"content": "hi"}]}\n', encoding="utf-8")
    (tmp_path / "p.csv").write_text("prompt,max_tokens\nhello there,3\nsecond,\n", encoding="utf-8")
    share = [{"id": "1", "conversations": [{"from": "human", "value": "tell me"}, {"from": "gpt", "value": "one two three"}]},
             {"id": "2", "conversations": [{"from": "gpt", "value": "no human turn"}]}]
    (tmp_path / "s.json").write_text(json.dumps(share), encoding="utf-8")
    j = load_prompts(tmp_path / "p.jsonl")
    assert j[0].text == "a b c" and j[0].max_tokens == 5 and j[1].as_messages() == [{"role": "user", "content": "hi"}]
    c = load_prompts(tmp_path / "p.csv")
    assert [(p.text, p.max_tokens) for p in c] == [("hello there", 3), ("second", None)]
    s = load_prompts(tmp_path / "s.json", count_tokens=lambda t: len(t.split()))
    assert len(s) == 1 and s[0].as_text() == "tell me" and s[0].max_tokens == 3  # the reply's length


def test_prompt_file_mistakes_name_file_and_row(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"prompt": "ok"}\n{"prompt": "x", "max_tokens": -2}\n', encoding="utf-8")
    with pytest.raises(PodiumError, match=r"bad.jsonl:2: max_tokens: expected a positive integer, got -2"):
        load_prompts(f)
    f.write_text('{"prompt": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(PodiumError, match=r"bad.jsonl:2: not JSON"):
        load_prompts(f)
    f.write_text('{"question": "where is the prompt"}\n', encoding="utf-8")
    with pytest.raises(PodiumError, match=r"bad.jsonl:1: expected a 'prompt' \(text\), 'messages' or 'conversations'"):
        load_prompts(f)
    with pytest.raises(PodiumError, match="unknown format .txt"):
        (tmp_path / "p.txt").write_text("x")
        load_prompts(tmp_path / "p.txt")


def test_synthetic_prompts_follow_their_lengths_and_seed():
    isl, osl = parse_distribution("uniform:20,40", "i"), parse_distribution("normal:64,8", "o")
    a = synthetic_prompts(200, isl, osl, seed=3)
    assert a == synthetic_prompts(200, isl, osl, seed=3) and a != synthetic_prompts(200, isl, osl, seed=4)
    assert all(20 <= p.input_tokens <= 40 and len(p.text.split()) == p.input_tokens + 1 for p in a)
    assert abs(np.mean([p.max_tokens for p in a]) - 64) < 3


def test_parquet_prompts(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame({"prompt": ["one two", "three"], "max_tokens": [4, 9]}).to_parquet(tmp_path / "p.parquet")
    got = load_prompts(tmp_path / "p.parquet")
    assert [(p.text, p.max_tokens) for p in got] == [("one two", 4), ("three", 9)]
