"""``python -m toto_bench.cli``: the same as the ``toto-bench`` command."""

from toto_bench.cli import main

raise SystemExit(main())
