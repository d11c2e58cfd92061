"""``python -m eegbin`` is the ``eegbin`` command."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
