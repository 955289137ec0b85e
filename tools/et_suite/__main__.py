"""``python -m tools.et_suite``: see ``tools.et_suite.runner``."""

from tools.et_suite.runner import main

raise SystemExit(main())
