"""The ceiling: a bare Bottle "hello" app on waitress, started the way `indieauth serve` starts its server.

    python bench/hello.py PORT THREADS

Whatever indieauth does per request costs throughput relative to this; bench/run reports each
endpoint as a fraction of it.
"""

import sys

import bottle
import waitress.server

app = bottle.Bottle()


@app.get("/")
def hello():
    return "hello"


def main(port, threads):
    # the same call as indieauth's cmd_serve: only host, port, threads and ident are set
    server = waitress.server.create_server(app, host="127.0.0.1", port=port, threads=threads, ident="indieauth")
    print(f"hello serving on http://127.0.0.1:{port}/", flush=True)
    server.run()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
