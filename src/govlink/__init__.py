"""GovLink: a district government's information resource integration and sharing platform."""

__version__ = "0.1.0"
