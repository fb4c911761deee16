"""The inference plane of the simulated cluster: tokens, the vLLM engine model,
its metrics, the OpenAI-compatible API and the endpoint picker's scheduling."""
