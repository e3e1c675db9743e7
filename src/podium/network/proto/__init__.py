"""The Open Inference Protocol (KServe v2) gRPC definition: ``grpc_predict_v2.proto`` and its compiled form.

``descriptor.py`` holds the serialized ``FileDescriptorProto`` that ``generate.py`` compiles from the
``.proto`` with grpcio-tools; it is committed so that podium needs no protoc at install or run time.
"""
