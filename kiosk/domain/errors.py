"""Typed errors a citizen or an operator can cause, each with a stable key the UI translates."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused something. `key` is stable (UI message catalogs and API reason codes use it)."""

    key: str = "domain_error"

    def __init__(self, key: str | None = None, detail: str = "", **params: object) -> None:
        if key is not None:
            self.key = key
        self.detail = detail
        self.params = params
        super().__init__(f"{self.key}: {detail}" if detail else self.key)


class InvalidIdNumber(DomainError):
    """The resident ID number is malformed, has a wrong check character or an unknown area/birth date."""

    key = "invalid_id_number"


class PolicyError(DomainError):
    """An area policy file is wrong; `detail` names the field."""

    key = "invalid_policy"


class Ineligible(DomainError):
    """A holder, a relative or a binding breaks a mutual-aid rule; `key` says which."""

    key = "ineligible"
