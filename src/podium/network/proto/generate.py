"""Compile ``grpc_predict_v2.proto`` into ``descriptor.py`` (run after editing the ``.proto``).

    python -m podium.network.proto.generate [--check]

Needs grpcio-tools (a development tool only). The output is the serialized ``FileDescriptorProto`` as a bytes
literal plus the sha256 of the ``.proto`` it came from, so a test can tell when the two drift apart.
``--check`` exits 1 instead of writing when ``descriptor.py`` is out of date.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = HERE / "grpc_predict_v2.proto"
OUTPUT = HERE / "descriptor.py"


def compile_descriptor(proto: Path = PROTO) -> bytes:
    """The serialized ``FileDescriptorProto`` of ``proto``, compiled by grpcio-tools' bundled protoc."""
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        rc = protoc.main(["protoc", f"-I{proto.parent}", f"--descriptor_set_out={out}", proto.name])
        if rc != 0:
            raise SystemExit(f"{proto}: protoc failed with status {rc}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    if len(files) != 1:
        raise SystemExit(f"{proto}: expected one file in the descriptor set, got {len(files)}")
    # Source info (comments, spans) is not in the set without --include_source_info: the bytes are stable.
    return files[0].SerializeToString(deterministic=True)


def render(serialized: bytes, proto_sha256: str) -> str:
    """The text of ``descriptor.py`` for these descriptor bytes."""
    return (
        '"""Serialized ``FileDescriptorProto`` of ``grpc_predict_v2.proto``: GENERATED, do not edit.\n\n'
        "Regenerate with ``python -m podium.network.proto.generate`` (grpcio-tools).\n"
        '"""\n\n'
        f'PROTO_SHA256 = "{proto_sha256}"\n\n'
        "SERIALIZED = (\n" + _split_literal(serialized) + "\n)\n"
    )


def _split_literal(serialized: bytes, step: int = 48) -> str:
    # One bytes literal per line, each a repr of a chunk: valid Python that concatenates back exactly.
    lines = []
    for start in range(0, len(serialized), step):
        lines.append(f"    {serialized[start:start + step]!r}")
    return "\n".join(lines)


def proto_sha256(proto: Path = PROTO) -> str:
    """sha256 of the ``.proto`` text (line endings normalised)."""
    return hashlib.sha256(proto.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if descriptor.py is out of date")
    args = ap.parse_args(argv)
    text = render(compile_descriptor(), proto_sha256())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date; run python -m podium.network.proto.generate", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
