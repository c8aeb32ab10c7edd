"""The ceiling: a bare Bottle "hello" app on waitress, started the way `indieauth serve` starts its server.

    python bench/hello.py PORT THREADS [WORKERS]

Whatever indieauth does per request costs throughput relative to this; bench/run reports each
endpoint as a fraction of it.  It is served by indieauth's own `serve_workers` (what `indieauth serve`
runs, with one worker or a pre-fork master of WORKERS), so the ceiling and the server share their
serving model; an indieauth without it (`bench/run --core` with an older one) served through
waitress's create_server as below, and so does the ceiling then.
"""

import sys

import bottle
import waitress.server


def make_app():
    app = bottle.Bottle()

    @app.get("/")
    def hello():
        return "hello"

    return app


def main(port, threads, workers=1):
    try:
        from indieauth import serve_workers
    except ImportError:  # an indieauth before --workers (bench/run --core): it served this way
        serve_workers = None
    if serve_workers:
        # make_app() runs in each worker process, as indieauth's app factory does under --workers
        print(f"hello serving on http://127.0.0.1:{port}/ ({workers} × {threads})", flush=True)
        serve_workers(make_app, host="127.0.0.1", port=port, workers=workers, threads=threads)
        return
    if workers > 1:
        raise SystemExit("hello.py: this indieauth has no serve_workers to serve several workers with")
    # the same call as indieauth's cmd_serve was: only host, port, threads and ident are set
    server = waitress.server.create_server(make_app(), host="127.0.0.1", port=port, threads=threads,
                                           ident="indieauth")
    print(f"hello serving on http://127.0.0.1:{port}/", flush=True)
    server.run()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
