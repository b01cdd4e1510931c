"""Version-neutral logic: chargers, authorization, transactions, the message log, events.

Nothing here knows OCPP messages, sockets or HTTP; the ocpp package translates into these calls.
"""
