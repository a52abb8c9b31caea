"""How a send fails, whatever the channel: worth trying again later, or never."""


class TransientSendError(Exception):
    """Worth trying again later: a server down, a timeout, a 4xx SMTP reply, an HTTP 5xx."""


class PermanentSendError(Exception):
    """Will fail the same way every time: a refused recipient, an HTTP 4xx."""


def error_describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
