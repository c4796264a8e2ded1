"""ticketd: a shared-inbox ticketing daemon.

The project's folders (``daemon/``, ``mail/``, ``routing/``, ``notifications/``, ``web/``)
are installed as subpackages of this namespace, so imports read ``ticketd.routing``.
"""

__version__ = "0.1.0"
