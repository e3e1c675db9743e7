"""Shared parts of the vision benchmarks (``resnet``, ``retinanet``).

``benchmark`` holds what both benchmarks do with models and data (official files from a path, or the
performance-only variant's random-weight model and random-pixel images); ``deps`` imports the optional
libraries with an install hint; ``images`` decodes image files the way the reference does (OpenCV);
``preprocess`` holds the reference pre-processing and the input formats a model may ask for;
``model_inputs`` reads that format from an ONNX file; ``graph`` and ``resnet_body`` build random-weight ONNX
graphs; ``model_cache`` keeps built models out of the package; ``synthetic`` makes labelled random inputs;
``metrics`` holds the submission checker's pass rule. Nothing here knows about scheduling or downloads
anything.
"""
