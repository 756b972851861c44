#!/usr/bin/env python3
"""SMTP sink for koppeling-email's integration tests.

Usage: smtp_sink.py PORT DIR

Runs an aiosmtpd server on 127.0.0.1:PORT and writes every message it receives to
DIR/<n>.eml: the envelope as `MAIL FROM: <…>` and `RCPT TO: <…>` lines, an empty line,
then the DATA exactly as received. Each file appears atomically (written, then renamed).
Runs until killed.
"""

import itertools
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        head = "MAIL FROM: <%s>\r\n" % envelope.mail_from
        head += "".join("RCPT TO: <%s>\r\n" % rcpt for rcpt in envelope.rcpt_tos)
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        tmp = os.path.join(self.directory, "%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8") + b"\r\n" + data)
        os.replace(tmp, os.path.join(self.directory, "%04d.eml" % n))
        return "250 Message accepted for delivery"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: smtp_sink.py PORT DIR")
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(
        Sink(directory), hostname="127.0.0.1", port=port, decode_data=False
    )
    controller.start()
    print("smtp_sink listening on 127.0.0.1:%d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
