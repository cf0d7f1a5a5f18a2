"""The runtime tests share their fixtures with the end-to-end tests."""

from tests.support.runtime_fixtures import env, photo

__all__ = ["env", "photo"]
