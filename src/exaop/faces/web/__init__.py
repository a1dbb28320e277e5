"""The web interface: pages, sessions, live updates over the one model (see app.py for the routes)."""

from exaop.faces.web.app import WebApp

__all__ = ["WebApp"]
