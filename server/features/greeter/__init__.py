"""The greeter: an automated FAQ assistant at the entrance that hands over to a person."""

from server.features.greeter.feature import Greeter

__all__ = ["Greeter"]
