"""``python -m ticketd``: the same command line as the ``ticketd`` script."""

from ticketd.daemon.cli import main

raise SystemExit(main())
