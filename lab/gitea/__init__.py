"""The lab Gitea: API v1 and git smart HTTP over real bare repositories (docs/ARCHITECTURE.md)."""
from .service import GiteaService

__all__ = ["GiteaService"]
