"""The end-to-end tests share their fixtures with the runtime tests."""

from tests.support.runtime_fixtures import env, photo

__all__ = ["env", "photo"]
