"""Moderation: the prompt word filter (words.py, pure) and the image classifier (images.py)."""
