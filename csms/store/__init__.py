"""Persistence: repository protocols (base.py) and the SQLite implementation (sqlite.py)."""
