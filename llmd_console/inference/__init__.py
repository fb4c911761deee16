"""Inference through llm-d's data path: one OpenAI API request with the client's timings, where
it is sent (gateway, configured URL or the API server proxy), why it failed, which pod served
it, and the prompt history. The core of the prompt pane and the load generator; no Textual."""
