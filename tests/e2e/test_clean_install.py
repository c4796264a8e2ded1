"""The wheel installed into a clean virtual environment with only its declared
dependencies (no test extras, no system packages) serves every route without a 500."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import write_config, write_mbox
from tests.netutil import free_port, wait_for_port
from ticketd.routing.links import status_token

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key-0123456789"
pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]


class Site:
    """Plain HTTP requests to the running daemon, remembering every status seen."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        """A bearer token of the staff API (``ticketd token create``)."""
        self.statuses: dict[str, int] = {}

    def request(
        self, path: str, method: str = "GET", body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            answer = response.status, {k.lower(): v for k, v in response.getheaders()}
            data = response.read()
        finally:
            connection.close()
        self.statuses[f"{method} {path}"] = answer[0]
        return answer[0], answer[1], data

    def get(self, path: str, expected: int) -> bytes:
        status, _, data = self.request(path)
        assert status == expected, (path, status, data[:300])
        return data


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean venv with the wheel and its declared dependencies, for the module."""
    root = tmp_path_factory.mktemp("clean-install")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(root), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = root.glob("ticketd-*.whl")
    env = root / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q",
         "--no-compile", str(wheel)],
        check=True, capture_output=True, cwd=root,
    )  # fmt: skip
    return env


@pytest.fixture
def daemon(installed: Path, tmp_path: Path) -> Iterator[tuple[Site, str]]:
    """``ticketd init``, an imported claim with an attachment, and ``ticketd run``."""
    port = free_port()
    ws = write_config(tmp_path)
    text = ws.config.read_text(encoding="utf-8")
    ws.config.write_text(text.replace("127.0.0.1:0", f"127.0.0.1:{port}"), encoding="utf-8")
    script = str(installed / "bin" / "ticketd")

    def cli(*args: str) -> str:
        done = subprocess.run(
            [script, "--config", str(ws.config), *args],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("init")
    mail = claim(attachments=[("report.pdf", "application/pdf", b"%PDF-1.4 figures")])
    cli("import", str(write_mbox(tmp_path / "in.mbox", [mail])))
    [ticket] = json.loads(cli("ticket", "list", "--json"))
    assert cli("reindex").startswith("indexed ")
    token = cli("token", "create", "bob@example.com").splitlines()[-1]
    assert "bob@example.com" in cli("token", "list")
    process = subprocess.Popen(
        [script, "--config", str(ws.config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for_port(port)
        yield Site(port, token), ticket["tracking"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors, errors


def test_only_declared_dependencies_are_installed(installed: Path) -> None:
    python = str(installed / "bin" / "python")
    missing = subprocess.run([python, "-c", "import yaml"], capture_output=True, check=False)
    assert missing.returncode != 0


def test_every_route_answers_without_a_server_error(daemon: tuple[Site, str]) -> None:
    site, number = daemon
    key = status_token(SECRET, number)
    unknown = "SUP-0000-0000"
    site.get("/", 200)
    site.get("/?lang=en", 200)
    site.get(f"/lookup?tracking={number.lower()}", 303)
    site.get("/lookup?tracking=nonsense", 404)
    site.get(f"/t/{unknown}", 404)
    site.get(f"/t/{number}", 200)
    site.get(f"/t/{number.lower()}", 301)
    site.get(f"/t/{number}?k=wrong", 200)
    page = site.get(f"/t/{number}?k={key}&lang=en", 200).decode()
    [link] = re.findall(r'href="(/t/[^"]+/attachments/[^"]+)"', page)
    link = link.replace("&amp;", "&")
    assert site.get(link, 200) == b"%PDF-1.4 figures"
    site.get(link.split("&s=")[0], 404)
    site.get(f"/api/tickets/{number}", 200)
    assert "attachments" in json.loads(site.get(f"/api/tickets/{number}?k={key}", 200))
    site.get(f"/api/tickets/{unknown}", 404)
    assert json.loads(site.get("/healthz", 200))["status"] == "ok"
    schema = json.loads(site.get("/openapi.json", 200))
    assert "/api/tickets/{tracking}" in schema["paths"]
    site.get("/static/style.css", 200)
    site.get("/static/missing.css", 404)
    site.get("/static/staff.css", 200)
    site.get("/staff/login", 200)
    site.get("/staff/", 303)
    site.get("/staff/login/unknown", 400)
    site.get("/staff/api/tickets", 401)
    for probe in ("/livez", "/readyz"):
        site.request(probe)
    bearer = {"Authorization": f"Bearer {site.token}"}
    listed = json.loads(site.request("/staff/api/tickets?q=admin%20page", headers=bearer)[2])
    assert [t["tracking"] for t in listed["tickets"]] == [number]
    status, _, whole = site.request(f"/staff/api/tickets/{number}", headers=bearer)
    assert status == 200
    act = json.dumps(
        {"commands": ["#note"], "text": "checked", "version": json.loads(whole)["version"]}
    )
    acted = site.request(
        f"/staff/api/tickets/{number}/actions",
        "POST",
        act,
        {**bearer, "Content-Type": "application/json"},
    )
    assert acted[0] == 200 and json.loads(acted[2])["done"]

    _, headers, home = site.request("/")
    nonce = headers["set-cookie"].split(";")[0]
    [token] = re.findall(rb'name="form_token" value="([a-z2-7]+)"', home)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    fields = f"tracking={number}&email=kim%40acme.co.kr"
    taken = site.request(
        "/resend", "POST", f"{fields}&form_token={token.decode()}", {**form, "Cookie": nonce}
    )
    assert taken[0] == 200
    assert site.request("/resend", "POST", fields, form)[0] == 403

    metrics = site.get("/metrics", 200).decode()
    assert 'status="5' not in metrics
    errors = {route: status for route, status in site.statuses.items() if status >= 500}
    assert errors == {}
