"""The explorer as a local web app (Dash): make it, serve it on 127.0.0.1.

:func:`create_app` builds the Dash app (page and callbacks); :func:`make_server` binds it
to ``127.0.0.1`` (a free port by default) without serving yet, so a caller can read the
address first; :func:`serve` prints the address and serves until interrupted. Nothing is
served beyond the local machine and no JavaScript comes from the network: Dash serves
its own and plotly's scripts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from dash import Dash
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.serving import make_server as _werkzeug_server

from landscape._checks import integer
from landscape.explore.callbacks import Session, register
from landscape.explore.layout import page

HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing: the page asks many times a second."""


def create_app() -> Dash:
    """The explorer's Dash app, with a fresh server-side session (basins job and map)."""
    app = Dash(__name__, title="landscape explore", update_title="", serve_locally=True)
    app.layout = page()
    register(app, Session())
    return app


def make_server(port: int = 0) -> BaseWSGIServer:
    """The app bound to ``127.0.0.1:port`` (``port=0``: a free one), threaded, not serving yet.

    Its address is ``f"http://127.0.0.1:{server.port}/"``; run it with
    ``server.serve_forever()`` and stop it with ``server.shutdown()``.

    Raises
    ------
    ValueError
        When ``port`` is not in ``[0, 65535]``.
    OSError
        When the port is taken (or not ours to bind).
    """
    port = integer(port, "port", 0, 65535)
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:  # bound here, so a taken port is an OSError (werkzeug would exit the process)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((HOST, port))
        listening.listen(128)
        return _werkzeug_server(HOST, port, create_app().server, threaded=True,
                                request_handler=_QuietHandler, fd=listening.fileno())
    except OSError as err:
        raise OSError(f"cannot listen on {HOST}:{port}: {err.strerror or err}") from None
    finally:
        listening.close()  # the server holds its own copy of the socket


def serve(port: int = 0, say: Callable[[str], None] = print) -> None:
    """Serve the explorer on ``127.0.0.1:port`` until interrupted (Ctrl+C).

    ``say`` is told the address (printed by default).
    """
    server = make_server(port)
    say(f"landscape explore: http://{HOST}:{server.port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
