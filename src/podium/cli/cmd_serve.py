"""``podium serve``: serve a benchmark's model over the Open Inference Protocol (KServe v2), REST and gRPC.

The SUT node of a network-division run: start it here, then point ``podium run --sut-url`` at it from the
LoadGen node. Binds 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from podium.cli.options import backend_options
from podium.errors import PodiumError

TOKEN_ENV = "PODIUM_SERVE_TOKEN"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a benchmark's model over KServe v2 (REST and gRPC) for network runs",
                       description="Serve a benchmark's model over the Open Inference Protocol (KServe v2): REST "
                       "with JSON and binary tensors, and gRPC. Point `podium run --sut-url` at it.")
    p.add_argument("--benchmark", action="append", default=None,
                   help="benchmark whose model to serve (repeatable; default digits)")
    p.add_argument("--backend", default="onnxruntime")
    p.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, e.g. intra_op_threads=2 (repeatable)")
    p.add_argument("--model-path", help="model file (default: the benchmark's shipped or built model)")
    p.add_argument("--model-name", help="name to serve the model under (default: the benchmark name)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 for every interface: use a token)")
    p.add_argument("--http-port", type=int, default=8000, help="REST port (default 8000; 0: any free port)")
    p.add_argument("--grpc-port", type=int, default=8001, help="gRPC port (default 8001; 0: any free port)")
    p.add_argument("--no-http", action="store_true", help="serve gRPC only")
    p.add_argument("--no-grpc", action="store_true", help="serve REST only")
    p.add_argument("--token-file", help=f"file holding a bearer token clients must send (or set ${TOKEN_ENV})")
    p.add_argument("--max-request-mb", type=float, default=64.0, help="largest request body accepted (default 64)")
    p.add_argument("--max-batch", type=int, default=None,
                   help="most samples one request may carry; larger requests are refused with an error naming "
                        "the limit (default: the batch the model fixes, else 1024)")
    p.add_argument("--backend-batch", type=int, default=None,
                   help="samples per backend call: larger requests run in chunks of this size, which bounds "
                        "the memory one request costs (default: the benchmark's batch size, else 32)")
    p.add_argument("--read-timeout", type=float, default=10.0,
                   help="seconds a client may take to send a request's headers, or between two pieces of "
                        "its body, before the connection is dropped (default 10)")
    p.add_argument("--inference-threads", type=int, default=4,
                   help="threads running REST inference (default 4; 0: inline in the event loop)")
    p.add_argument("--grpc-threads", type=int, default=8, help="gRPC handler threads (default 8)")
    p.add_argument("--tls-cert", help="PEM certificate: serve https:// and grpcs:// (with --tls-key)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--no-postprocess", action="store_true",
                   help="do not offer the post-processed mlperf_response output (clients post-process)")
    sim = p.add_argument_group("a simulated LLM server (--llm sim): OpenAI-compatible streaming with known timing")
    sim.add_argument("--llm", choices=["sim"], help="serve a simulated OpenAI-compatible LLM on --http-port instead "
                     "of a benchmark's model (/v1/chat/completions, /v1/completions, /v1/models)")
    sim.add_argument("--ttft-ms", default="50", help="time to first token, ms: N or a distribution (normal:50,5, "
                     "uniform:A,B, lognormal:MEAN,SD, exp:MEAN; default 50)")
    sim.add_argument("--tpot-ms", default="10", help="time per output token after the first, ms (default 10)")
    sim.add_argument("--output-len", default="64", help="output tokens (capped by the request's max_tokens; default 64)")
    sim.add_argument("--reasoning-len", help="reasoning tokens sent before the content (default none)")
    sim.add_argument("--tpot-per-active-ms", type=float, default=0.0,
                     help="ms added to a request's TPOT per other request generating (a batch slows each stream)")
    sim.add_argument("--slots", type=int, default=0, help="requests generating at once; the rest queue (default: no "
                     "limit)")
    sim.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    sim.add_argument("--served-model", default="podium-sim", help="the model name /v1/models lists")
    sim.add_argument("--error-every", type=int, default=0, help="every N-th request: an error event mid-stream")
    sim.add_argument("--truncate-every", type=int, default=0, help="every N-th request: the stream is cut mid-way")
    sim.add_argument("--http-error-every", type=int, default=0, help="every N-th request: HTTP 500")
    p.set_defaults(func=run)


def run_llm_sim(args: argparse.Namespace) -> int:
    """``podium serve --llm sim``: until Ctrl-C."""
    import asyncio

    from aiohttp import web

    from podium.llm import SimServer, sim_config

    cfg = sim_config(ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms, output_len=args.output_len,
                     reasoning_len=args.reasoning_len, seed=args.seed, model=args.served_model, slots=args.slots,
                     error_every=args.error_every, truncate_every=args.truncate_every,
                     http_error_every=args.http_error_every, tpot_per_active_ms=args.tpot_per_active_ms)
    if not 0 <= args.http_port <= 65535:
        raise PodiumError(f"--http-port: expected 0..65535, got {args.http_port}")
    server = SimServer(cfg)

    async def serve() -> None:
        runner = web.AppRunner(server.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.http_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise PodiumError(f"--http-port {args.http_port}: cannot listen on {args.host} ({exc.strerror})") from None
        port = site._server.sockets[0].getsockname()[1] if site._server else args.http_port  # type: ignore[union-attr,attr-defined]
        print(f"podium serve --llm sim: SIMULATED LLM (no model) on openai+http://{args.host}:{port}; ttft "
              f"{cfg.ttft_ms.spec()} ms, tpot {cfg.tpot_ms.spec()} ms, output {cfg.output_len.spec()} tokens, seed "
              f"{cfg.seed}" + (f", {cfg.slots} slots" if cfg.slots else ""), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


def read_token(path: str | None) -> str | None:
    """The bearer token from ``--token-file`` or the environment, or None; must be one non-empty line."""
    if path is not None:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PodiumError(f"--token-file {path}: cannot read it ({exc.strerror})") from None
        source = f"--token-file {path}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        source = f"${TOKEN_ENV}"
        if not token:
            return None
    if not token or any(c in token for c in "\r\n") or not token.isprintable():
        raise PodiumError(f"{source}: expected one line of printable characters")
    return token


def build_models(args: argparse.Namespace) -> dict[str, Any]:
    """The models to serve: each benchmark's model, plus ``<name>-raw`` when the benchmark has a raw form."""
    from podium.backends import get_backend
    from podium.benchmarks import get_benchmark
    from podium.network import serve_backend
    from podium.network.model import as_raw_form

    names = args.benchmark or ["digits"]
    if args.model_name and len(names) > 1:
        raise PodiumError("--model-name: only with a single --benchmark")
    if args.model_path and len(names) > 1:
        raise PodiumError("--model-path: only with a single --benchmark")
    max_batch = getattr(args, "max_batch", None)
    for flag, value in (("--max-batch", max_batch), ("--backend-batch", getattr(args, "backend_batch", None))):
        if value is not None and value < 1:
            raise PodiumError(f"{flag}: expected a positive integer, got {value}")
    models: dict[str, Any] = {}
    for name in names:
        bench = get_benchmark(name)
        path = bench.resolve_model_path(args.model_path)
        backend = get_backend(args.backend, **backend_options(args.backend_option)).load(str(path))
        served = args.model_name or bench.name
        post = None if args.no_postprocess else bench.postprocess
        labels = {"benchmark": bench.name, "model_path": str(path),
                  "random_weights": str(bool(bench.random_weights)).lower()}
        chunk = backend_batch(bench, getattr(args, "backend_batch", None))
        limits = {"max_batch": max_batch,
                  "backend_batch": None if chunk is None else min(chunk, max_batch or chunk)}
        models[served] = serve_backend(served, backend, postprocess=post, properties=labels, **limits)
        maker = getattr(bench, "raw_form", None)
        raw = as_raw_form(maker()) if callable(maker) else None
        if raw is not None:
            models[f"{served}-raw"] = serve_backend(f"{served}-raw", backend, postprocess=post, raw=raw,
                                                    properties=labels, **limits)
    return models


def backend_batch(bench: Any, given: int | None) -> int | None:
    """Samples per backend call: ``--backend-batch``, else the batch the benchmark fixes or its Offline
    harness batch; None leaves the choice to ``serve_backend`` (its default, or the model's fixed batch)."""
    if given is not None:
        return given
    fixed = getattr(bench, "max_batch_size", None)
    if isinstance(fixed, int) and fixed > 0:
        return fixed
    try:
        size = (bench.harness_defaults("Offline") or {}).get("max_batch_size")
    except Exception:  # a benchmark hook that fails here must not stop the server: use the default
        size = None
    return size if isinstance(size, int) and size > 0 else None


def run(args: argparse.Namespace) -> int:
    from podium.network import InferenceServer, ServeOptions

    if args.llm == "sim":
        return run_llm_sim(args)
    if args.no_http and args.no_grpc:
        raise PodiumError("--no-http and --no-grpc: nothing left to serve")
    for flag, port in (("--http-port", args.http_port), ("--grpc-port", args.grpc_port)):
        if not 0 <= port <= 65535:
            raise PodiumError(f"{flag}: expected 0..65535, got {port}")
    if args.max_request_mb <= 0:
        raise PodiumError(f"--max-request-mb: expected a positive number, got {args.max_request_mb:g}")
    if not args.read_timeout > 0:
        raise PodiumError(f"--read-timeout: expected a positive number of seconds, got {args.read_timeout:g}")
    logging.basicConfig(level=logging.INFO, format="podium serve: %(message)s")
    options = ServeOptions(host=args.host, http_port=None if args.no_http else args.http_port,
                           grpc_port=None if args.no_grpc else args.grpc_port, token=read_token(args.token_file),
                           max_request_bytes=int(args.max_request_mb * (1 << 20)),
                           inference_threads=args.inference_threads, grpc_threads=args.grpc_threads,
                           read_timeout_s=args.read_timeout,
                           tls_cert=args.tls_cert, tls_key=args.tls_key)
    models = build_models(args)
    server = InferenceServer(models, options).start()
    for name, model in models.items():
        flags = " (random weights: timing only)" if model.properties.get("random_weights") == "true" else ""
        print(f"serving model {name}{flags}: inputs "
              + ", ".join(f"{m.name} {m.datatype} {list(m.shape)}" for m in model.inputs)
              + f"; at most {model.max_batch} samples per request, {model.backend_batch} per backend call",
              flush=True)
    for url in server.urls():
        print(f"listening: {url}", flush=True)
    print("auth: bearer token required" if options.token else "auth: none (no token configured)", flush=True)
    print("stop with Ctrl-C", flush=True)
    server.serve_forever()
    return 0
