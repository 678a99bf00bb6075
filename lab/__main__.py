"""The local stand-in for the course's lab machine.

$ python -m lab serve --state /tmp/lab
catalog http://127.0.0.1:8000/
smtp 127.0.0.1:8025
maildir /tmp/lab/maildir
lab ready (Ctrl-C to stop)

$ python -m lab make-data ~/supplier-data --count 10
wrote 10 images and 10 descriptions in /home/student/supplier-data

$ python -m lab make-data /tmp/feedback --feedback --count 5
wrote 5 reviews in /tmp/feedback

$ python -m lab mail --state /tmp/lab
Sat, 21 Nov 2026 05:40:12 +0000  automation@example.com -> student@example.com
    Upload Completed - Online Fruit Store  [processed.pdf]
"""

import argparse
import email
import email.policy
import mailbox
import os
import re
import signal
import socket
import sys
import threading
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lab",
        description="Local stand-in for the course's lab machine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the catalog web service and the mail server",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind both services to")
    serve.add_argument("--http-port", type=int, default=8000, help="catalog port (0: any free)")
    serve.add_argument("--smtp-port", type=int, default=8025, help="SMTP port (0: any free)")
    serve.add_argument("--state", type=Path, default=Path("lab-state"), help="state folder")
    serve.add_argument("--no-http", action="store_true", help="run the mail server only")
    serve.add_argument("--no-smtp", action="store_true", help="run the catalog service only")
    quirks = serve.add_argument_group("quirks of the course's lab machine (catalog service)")
    quirks.add_argument(
        "--lang-c",
        action="store_true",
        default=os.environ.get("LAB_LANG_C", "") not in ("", "0"),
        help="Apache with LANG=C: an upload whose name is not pure ASCII is a 500 error "
        "and nothing is stored (env LAB_LANG_C=1)",
    )
    quirks.add_argument(
        "--no-media-index",
        action="store_true",
        default=os.environ.get("LAB_NO_MEDIA_INDEX", "") not in ("", "0"),
        help="answer /media/images/ with 403 Forbidden instead of Apache's listing "
        "(Options -Indexes) (env LAB_NO_MEDIA_INDEX=1)",
    )
    faults = serve.add_argument_group("fault injection (catalog service)")
    for name, meaning in [
        ("fail-rate", "fraction of requests answered 503"),
        ("delay", "seconds added before each answer"),
        ("post-delay", "seconds each POST waits before it is handled"),
        ("drop-rate", "fraction of 201 answers dropped after the commit"),
        ("gateway-rate", "fraction of POSTs answered 504 at once, as a proxy does, and done later"),
    ]:
        variable = "LAB_" + name.replace("-", "_").upper()
        faults.add_argument(
            f"--{name}",
            type=float,
            default=float(os.environ.get(variable, 0)),
            help=f"{meaning} (env {variable})",
        )
    faults.add_argument("--fault-seed", type=int, default=int(os.environ.get("LAB_FAULT_SEED", 0)))
    mail = serve.add_argument_group("mail server options")
    mail.add_argument("--smtp-auth", metavar="USER:PASSWORD", help="require this login")
    mail.add_argument(
        "--smtp-reject", metavar="ADDRESS", action="append", default=[], help="refuse recipient"
    )
    mail.add_argument("--smtp-tls", action="store_true", help="offer STARTTLS (self-signed)")
    serve.add_argument(
        "-q", "--quiet", action="store_true", help="do not log each request (errors only)"
    )

    data = commands.add_parser(
        "make-data",
        help="write sample supplier data (or, with --feedback, sample customer reviews)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data.add_argument("dest", type=Path, help="folder to write images/ and descriptions/ into")
    data.add_argument(
        "--feedback",
        action="store_true",
        help="write customer reviews instead (the course's lab 2): DEST/NNN.txt, "
        "lines title, name, date YYYY-MM-DD, then the feedback",
    )
    data.add_argument("--count", type=int, default=10, help="how many fruits (or reviews)")
    data.add_argument("--seed", type=int, default=0, help="same seed, same files")

    mail_list = commands.add_parser(
        "mail",
        help="list the messages the mail server received",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands.add_parser("demo", help="run the whole chain against a local lab (make demo)")
    mail_list.add_argument("--state", type=Path, default=Path("lab-state"), help="state folder")
    return parser.parse_args(argv)


def setup_django(state: Path, quiet: bool = False) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "media" / "images").mkdir(parents=True, exist_ok=True)
    os.environ["LAB_STATE"] = str(state.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "lab.settings"
    if quiet:
        os.environ["LAB_LOG_LEVEL"] = "ERROR"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def start_catalog(host: str, port: int):
    """Django's own threaded development server, with the socket handed to the fault injection."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class RequestHandler(WSGIRequestHandler):
        def setup(self):
            super().setup()
            # As any production server does: no Nagle delay on kept-alive connections.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def get_environ(self):
            environ = super().get_environ()
            environ["lab.connection"] = self.connection
            return environ

    server = ThreadedWSGIServer((host, port), RequestHandler, allow_reuse_address=True)
    server.daemon_threads = True
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(args: argparse.Namespace) -> int:
    for name in ("fail_rate", "delay", "post_delay", "drop_rate", "gateway_rate", "fault_seed"):
        os.environ[f"LAB_{name.upper()}"] = str(getattr(args, name))
    for name in ("lang_c", "no_media_index"):
        os.environ[f"LAB_{name.upper()}"] = "1" if getattr(args, name) else "0"
    state = args.state.resolve()
    setup_django(state, args.quiet)
    from lab.mailserver import MailServer

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    catalog = mail = None
    try:
        if not args.no_http:
            catalog = start_catalog(args.host, args.http_port)
            print(f"catalog http://{args.host}:{catalog.server_port}/", flush=True)
        if not args.no_smtp:
            mail = MailServer(
                args.host,
                args.smtp_port,
                state,
                args.smtp_auth,
                tuple(args.smtp_reject),
                args.smtp_tls,
            )
            print(f"smtp {args.host}:{mail.start()}", flush=True)
            print(f"maildir {mail.maildir}", flush=True)
    except OSError as error:
        print(f"lab: cannot start: {error}", file=sys.stderr)
        return 2
    print("lab ready (Ctrl-C to stop)", flush=True)
    stop.wait()
    if catalog:
        catalog.shutdown()
    if mail:
        mail.stop()
    return 0


def make_data(args: argparse.Namespace) -> int:
    from lab.sample_data import make_data as write_sample
    from lab.sample_data import make_feedback

    if args.feedback:
        reviews = make_feedback(args.dest, count=args.count, seed=args.seed)
        print(f"wrote {len(reviews)} reviews in {args.dest.resolve()}")
        return 0
    fruits = write_sample(args.dest, count=args.count, seed=args.seed)
    print(f"wrote {len(fruits)} images and {len(fruits)} descriptions in {args.dest.resolve()}")
    return 0


def list_mail(args: argparse.Namespace) -> int:
    folder = args.state / "maildir"
    if not folder.is_dir():
        print(f"lab: no Maildir at {folder}: has `python -m lab serve --state {args.state}` run?",
              file=sys.stderr)  # fmt: skip
        return 2
    for message in read_maildir(folder):
        attachments = [part.get_filename() for part in message.iter_attachments()]
        names = f"  [{', '.join(attachments)}]" if attachments else ""
        print(
            f"{message['Date']}  {message['From']} -> {message['To']}  {message['Subject']}{names}"
        )
    return 0


def read_maildir(folder: Path) -> list[email.message.EmailMessage]:
    """Every message of a Maildir, oldest first, parsed with the modern email API."""
    box = mailbox.Maildir(folder, factory=None, create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in sorted(box.keys(), key=arrival_order)
    ]


def arrival_order(key: str) -> tuple[int, int, str]:
    """Maildir names start with the delivery time: "SECONDS.MMICROSECONDSP..."."""
    seconds, micro = re.match(r"(\d+)\.M(\d+)", key + ".M0").groups()
    return int(seconds), int(micro), key


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "demo":
        from lab.demo import main as demo

        return demo()
    return {"serve": serve, "make-data": make_data, "mail": list_mail}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
