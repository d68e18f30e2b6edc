"""The forge's URL layout, built from the public origin."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from .settings import API_PREFIX


@dataclass(frozen=True, slots=True)
class Urls:
    """API under /api/v3, repos at /{owner}/{repo}, Pages sites under /pages/."""

    base: str  # e.g. "http://127.0.0.1:8081", no trailing slash

    @property
    def api(self) -> str:
        return self.base + API_PREFIX

    def repo_api(self, full_name: str) -> str:
        return f"{self.api}/repos/{full_name}"

    def repo_html(self, full_name: str) -> str:
        return f"{self.base}/{full_name}"

    def clone(self, full_name: str) -> str:
        return f"{self.base}/{full_name}.git"

    def pages(self, full_name: str) -> str:
        return f"{self.base}/pages/{full_name}/"

    def raw(self, full_name: str, ref: str, path: str) -> str:
        return f"{self.base}/raw/{full_name}/{quote(ref)}/{quote(path)}"

    def user_api(self, login: str) -> str:
        return f"{self.api}/users/{login}"

    def user_html(self, login: str) -> str:
        return f"{self.base}/{login}"
