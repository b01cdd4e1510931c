"""OCPP-J: the only package that imports the mobilityhouse ``ocpp`` library.

rpc.py parses and builds frames, schemas.py validates payloads with the library's own JSON schemas,
connection.py runs one charger's socket, sessions.py knows who is connected, and v16/ (later v201/)
translate messages into version-neutral service calls.
"""
