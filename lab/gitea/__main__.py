"""``python -m lab.gitea merge-upstream ...`` (see lab/gitea/maintainer.py)."""
import sys

from lab.gitea.maintainer import main

sys.exit(main())
