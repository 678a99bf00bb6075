"""Fault injection, so that tests can prove nothing is lost or duplicated.

Faults, each off by default, set when the server starts (flags of
``python -m lab serve`` or the LAB_* environment variables) and changeable
while it runs with ``POST /_lab/faults/`` and a JSON object:

- ``fail_rate``: this fraction of requests is answered ``503`` without being handled;
- ``delay``: seconds added before each answer;
- ``post_delay``: seconds each POST waits before it is handled, and handled then whether
  or not the client still waits for it (a service slower than the client's read timeout);
- ``drop_rate``: this fraction of successful creations (``201``) is committed,
  then the connection is closed before the answer is sent ("commit then drop");
- ``gateway_rate``: this fraction of POSTs is answered ``504 Gateway Time-out``
  at once, and done GATEWAY_LAG seconds later, as a proxy in front of the
  service (nginx, Apache's mod_proxy) answers when the service is slower than
  its timeout: the service goes on and saves it after the client was told 504.

``GET /_lab/requests/`` lists every request the service has answered
(method, path, status, whether the fault injection touched it, and how many
requests it was handling when this one came, itself included), so a test can
count the POSTs a script made and see how many it had in flight. The
``/_lab/`` paths are never faulted.
"""

import contextlib
import json
import os
import random
import socket
import threading
import time

from django.http import HttpResponse, JsonResponse

FAULT_NAMES = ("fail_rate", "delay", "post_delay", "drop_rate", "gateway_rate")

_lock = threading.Lock()
_random = random.Random(int(os.environ.get("LAB_FAULT_SEED", "0")))
faults = {name: float(os.environ.get(f"LAB_{name.upper()}", "0") or 0) for name in FAULT_NAMES}
request_log: list[dict] = []
_handling = 0  # requests being handled now


# Seconds after its 504 that a POST is done, as the service behind a proxy goes on.
GATEWAY_LAG = 0.3
# nginx's page for a proxy_read_timeout.
GATEWAY_TIMEOUT = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def _chance(rate: float) -> bool:
    with _lock:
        return rate > 0 and _random.random() < rate


class FaultInjectionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/_lab/"):
            return self.get_response(request)
        global _handling
        with _lock:
            _handling += 1
            entry = {"method": request.method, "path": request.path, "fault": None}
            entry["in_flight"] = _handling
        try:
            return self._handle(request, entry)
        finally:
            with _lock:
                _handling -= 1

    def _handle(self, request, entry: dict):
        if faults["delay"]:
            time.sleep(faults["delay"])
        if faults["post_delay"] and request.method == "POST":
            request.body  # noqa: B018 - read now: the work is done even if the client has gone
            time.sleep(faults["post_delay"])
        if request.method == "POST" and _chance(faults["gateway_rate"]):
            entry["fault"] = "504"
            request.body  # noqa: B018 - read now: the client is answered before the work is done
            threading.Thread(target=self._later, args=(request,), daemon=True).start()
            response = HttpResponse(GATEWAY_TIMEOUT, status=504, content_type="text/html")
        elif _chance(faults["fail_rate"]):
            entry["fault"] = "503"
            response = HttpResponse(
                "Service Unavailable (lab fault injection)\n",
                status=503,
                content_type="text/plain",
            )
        else:
            response = self.get_response(request)
            if response.status_code == 201 and _chance(faults["drop_rate"]):
                entry["fault"] = "drop"
                _drop_connection(request)
        entry["status"] = response.status_code
        with _lock:
            request_log.append(entry)
        return response

    def _later(self, request) -> None:
        """The work a proxy's 504 did not stop: done GATEWAY_LAG seconds after it."""
        from django.db import connections

        time.sleep(GATEWAY_LAG)
        try:
            self.get_response(request)
        finally:
            connections.close_all()


def _drop_connection(request) -> None:
    """Close the client's connection: the work is done, the answer never arrives."""
    connection = request.META.get("lab.connection")
    if connection is None:  # not run by `python -m lab serve`
        return
    with contextlib.suppress(OSError):  # the client may have gone already
        connection.shutdown(socket.SHUT_RDWR)


def faults_view(request):
    if request.method == "POST":
        try:
            changes = json.loads(request.body or b"{}")
            for name, value in changes.items():
                if name not in FAULT_NAMES:
                    raise ValueError(f"unknown fault {name!r}")
                faults[name] = float(value)
        except (ValueError, TypeError) as error:
            return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(faults)


def requests_view(request):
    if request.method == "DELETE":
        with _lock:
            request_log.clear()
    with _lock:
        return JsonResponse(list(request_log), safe=False)
