"""The lesson catalogue: Markdown lessons with front matter, and their loader and validator."""
