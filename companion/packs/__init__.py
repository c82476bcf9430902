"""Data packs shipped with the package (config/ and models/ of the repo)."""
