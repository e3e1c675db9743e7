"""LLM serving over OpenAI-compatible streaming APIs: the client SUT the LoadGen drives (``OpenAISUT``), its
record part (``LLMRecorder``), the fixed-concurrency load and sweeps, and the simulated server
(``podium serve --llm sim``) whose known timing checks every client figure.
"""

from podium.llm.client import StreamingClient, StreamResult, endpoint_url
from podium.llm.recorder import LLMRecorder
from podium.llm.sim_server import RunningSim, SimConfig, SimServer, sim_config
from podium.llm.sut import OpenAISUT

__all__ = ["LLMRecorder", "OpenAISUT", "RunningSim", "SimConfig", "SimServer", "StreamResult", "StreamingClient",
           "endpoint_url", "sim_config"]
