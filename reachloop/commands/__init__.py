"""One module per ``reachloop`` sub-command; each defines ``register(subparsers)``."""
