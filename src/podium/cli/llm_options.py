"""The LLM endpoint options ``podium run`` and ``podium sweep`` share, and the ``RunRequest`` fields they make."""

from __future__ import annotations

import argparse
import json
from typing import Any

from podium.errors import PodiumError
from podium.llm.metrics import parse_slo


def add_llm_options(p: argparse.ArgumentParser) -> None:
    """The "LLM endpoints" option group."""
    llm = p.add_argument_group("LLM endpoints (--benchmark llm --sut-url openai+http://HOST:PORT; see docs/llm.md)")
    llm.add_argument("--api", dest="sut_api", default="chat", choices=["chat", "completions"],
                     help="/v1/chat/completions (default) or /v1/completions")
    llm.add_argument("--model", dest="llm_model", help="model name on the server (default: the first of /v1/models)")
    llm.add_argument("--prompts", help="prompts file: JSONL, JSON, CSV or Parquet with prompt, messages or ShareGPT "
                     "conversations (default: synthetic prompts)")
    llm.add_argument("--num-prompts", type=int, help="prompts to use (synthetic default 1024; files: all)")
    llm.add_argument("--input-len", help="synthetic prompts' input length in tokens: N or a distribution "
                     "(normal:512,64, uniform:A,B, lognormal:MEAN,SD, exp:MEAN; default 128)")
    llm.add_argument("--output-len", help="output tokens asked for (max_tokens): N or a distribution (synthetic "
                     "default 128; with --prompts it replaces the file's)")
    llm.add_argument("--max-tokens", type=int, help="cap every request's max_tokens")
    llm.add_argument("--seed", type=int, help="seed of the synthetic prompts and lengths (default 0)")
    llm.add_argument("--tokenizer", help="the model's tokenizer.json: count output tokens as the model does (default: "
                     "the server's usage)")
    llm.add_argument("--max-in-flight", type=int, help="requests in flight at most (default: Offline 64 per endpoint, "
                     "other scenarios no cap)")
    llm.add_argument("--client-processes", type=int, default=1,
                     help="client processes issuing the requests under the one schedule (default 1; more when the "
                     "record says client-limited)")
    llm.add_argument("--api-key-env", default="OPENAI_API_KEY",
                     help="environment variable holding the API key (default OPENAI_API_KEY; unset: no key)")
    llm.add_argument("--slo", metavar="ttft=MS,tpot=MS[,e2e=MS]",
                     help="service-level objectives: goodput is the share of requests meeting all of them")
    llm.add_argument("--request-field", action="append", default=[], metavar="KEY=JSON",
                     help="extra request-body field, e.g. temperature=0 or ignore_eos=true (repeatable)")


def llm_fields(args: argparse.Namespace) -> dict[str, Any]:
    opts = {k: getattr(args, k) for k in ("prompts", "num_prompts", "input_len", "output_len", "seed", "tokenizer",
                                          "max_tokens") if getattr(args, k, None) is not None}
    extra: dict[str, Any] = {}
    for item in args.request_field:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PodiumError(f"--request-field {item}: expected KEY=JSON, e.g. temperature=0")
        try:
            extra[key.strip()] = json.loads(value)
        except ValueError:
            extra[key.strip()] = value
    if args.client_processes < 1:
        raise PodiumError(f"--client-processes: expected an integer >= 1, got {args.client_processes}")
    if args.max_in_flight is not None and args.max_in_flight < 1:
        raise PodiumError(f"--max-in-flight: expected an integer >= 1, got {args.max_in_flight}")
    llm_url = any(u.startswith("openai+") for u in args.sut_url)
    if (opts or extra or args.llm_model) and not llm_url and args.benchmark != "llm":
        raise PodiumError("--prompts, --model and the other LLM options need --benchmark llm and --sut-url "
                          "openai+http://HOST:PORT")
    if args.slo:
        parse_slo(args.slo)  # a mistake fails before anything starts
    fields: dict[str, Any] = {"benchmark_options": opts} if opts else {}
    if llm_url:
        fields.update(sut_api=args.sut_api, sut_max_in_flight=args.max_in_flight, sut_api_key_env=args.api_key_env,
                      sut_extra_body=extra, sut_slo=args.slo, sut_client_processes=args.client_processes)
        if args.llm_model:
            fields["sut_model"] = args.llm_model
    return fields
