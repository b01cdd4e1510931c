"""Persistence: the repository protocols (repositories.py) and two backends behind them,
``sqlite`` (the default: one file) and ``postgres``. ``open_store`` picks one from the settings."""
