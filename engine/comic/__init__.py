"""Comic pages from a world's panels: speech (pure), page layout and lettering (Pillow), PDF/CBZ export.

`engine.comic.speech` is pure (the prompt compiler imports it); the other modules use Pillow and
run off the event loop.
"""
