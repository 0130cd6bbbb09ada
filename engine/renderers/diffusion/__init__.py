"""The diffusers renderers: model loading, reference attention, long prompts, tiny test pipelines."""
