"""The operator HTTP API (FastAPI): routes and schemas over the services and live sessions."""
