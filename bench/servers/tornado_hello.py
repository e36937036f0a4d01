# Python Tornado with the same replies (run with Debian's python3-tornado).
import json
import sys

import tornado.ioloop
import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, world!")


class Json(tornado.web.RequestHandler):
    def get(self):
        self.write({"message": "Hello, world!", "n": 42, "ok": True})


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8004
    import logging
    logging.getLogger("tornado.access").disabled = True
    app = tornado.web.Application([(r"/", Hello), (r"/json", Json)])
    app.listen(port, "127.0.0.1")
    print("ready", flush=True)
    tornado.ioloop.IOLoop.current().start()


main()
