"""The storyboard renderer (Pillow only): a readable drawing of every panel, no GPU."""
