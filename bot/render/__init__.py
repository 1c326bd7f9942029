"""Decide's renderer: environments and catalogs into the files of the platform and app GitOps repositories; pure."""

from bot.render.renderer import Pending, RenderedFile, RenderResult, Repo, render_environment
from bot.render.settings import GitOpsLayout, RenderSettings, WorkspaceApi

__all__ = [
    "GitOpsLayout",
    "Pending",
    "RenderResult",
    "RenderSettings",
    "RenderedFile",
    "Repo",
    "WorkspaceApi",
    "render_environment",
]
