"""The polling helper the tests wait with: the dev runner's, shared with the benches in bench/."""

from fmc_devrunner.polling import eventually

__all__ = ["eventually"]
