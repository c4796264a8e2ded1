"""Acting from the workspace: ``POST /staff/api/tickets/{tracking}/actions`` (JSON) and
``POST /staff/t/{tracking}/act`` (the ticket page's form), both the same as a mail from
the signed-in engineer with those command lines and that text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ticketd.mail.attachments import safe_filename
from ticketd.mail.message import Attachment
from ticketd.routing.actions import (
    MAX_LINES,
    MAX_TEXT,
    ActionRequest,
    ActionResult,
    ActionState,
)
from ticketd.routing.outcome_words import outcome_words, reason_words
from ticketd.routing.outcomes import Outcome
from ticketd.routing.ticket_json import event_object
from ticketd.routing.workspace import StaffEvent, StaffUser
from ticketd.web.staff.auth import NO_STORE, StaffAuth, Viewer
from ticketd.web.staff.ports import StaffReader
from ticketd.web.staff.render import StaffRenderer

MAX_FILES = 20
ACTION_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "conflict_title": "The ticket changed while you wrote",
        "conflict_intro": "Nothing was applied. This is what is new; your draft is kept "
        "below: send it as it is, or change it first.",
        "commands": "Commands (one per line)",
        "text": "Text",
        "mode_reply": "Public reply",
        "mode_note": "Internal note",
        "files": "Attachments",
        "send_anyway": "Send now",
        "back_to_ticket": "Back to the ticket",
    },
    "ko": {
        "conflict_title": "작성하는 동안 티켓이 바뀌었습니다",
        "conflict_intro": "아무것도 적용하지 않았습니다. 아래에 새로 올라온 내용과 작성하던 "
        "초안이 있습니다. 그대로 보내거나 고친 뒤 보내세요.",
        "commands": "명령 (한 줄에 하나)",
        "text": "본문",
        "mode_reply": "고객에게 답장",
        "mode_note": "내부 메모",
        "files": "첨부 파일",
        "send_anyway": "지금 보내기",
        "back_to_ticket": "티켓으로 돌아가기",
    },
}


class StaffActions(Protocol):
    """Applies workspace actions (implemented on the store, in one write transaction)."""

    def act(
        self, user: StaffUser, tracking: str, version: int, request: ActionRequest
    ) -> ActionResult:
        """Plan ``request`` as ``user``'s mail would be planned and apply it, only while
        the ticket is at ``version``."""


class BadBody(ValueError):
    """The request is malformed (a 400)."""


def read_json(raw: bytes) -> tuple[ActionRequest, int]:
    """The action and the version of a JSON body (``BadBody`` when malformed)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBody("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    commands, text, version = body.get("commands", []), body.get("text", ""), body.get("version")
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise BadBody("commands must be a list of strings")
    if not isinstance(text, str):
        raise BadBody("text must be a string")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadBody("version must be the ticket's version (an integer)")
    return checked(commands, text), version


def checked(commands: list[str], text: str, files: tuple[Attachment, ...] = ()) -> ActionRequest:
    if len(commands) > MAX_LINES:
        raise BadBody(f"more than {MAX_LINES} command lines")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT:
        raise BadBody(f"text over {MAX_TEXT // 1024} KB")
    return ActionRequest(tuple(c[:1000] for c in commands), text, files)


def said(outcomes: tuple[Outcome, ...], language: str) -> list[str]:
    """Each line's outcome in the reader's language."""
    return [outcome_words(outcome, language) for outcome in outcomes]


def newer_events(
    events: tuple[StaffEvent, ...], version: int, language: str
) -> list[dict[str, Any]]:
    return [event_object(e, language) for e in events if e.id > version]


class ActionEndpoints:
    """The two action routes, holding their collaborators."""

    def __init__(
        self,
        auth: StaffAuth,
        render: StaffRenderer,
        reader: StaffReader,
        actions: StaffActions,
        max_attachment_bytes: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.auth = auth
        self.render = render
        self.reader = reader
        self.actions = actions
        self.max_attachment_bytes = max_attachment_bytes
        self.now = now

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/tickets/{tracking}/actions", self.auth.api(self.api_act), methods=["POST"]),
            Route("/t/{tracking}/act", self.auth.form(self.form_act), methods=["POST"]),
        ]

    async def _act(
        self, viewer: Viewer, tracking: str, version: int, action: ActionRequest
    ) -> ActionResult:
        return await run_in_threadpool(self.actions.act, viewer.user, tracking, version, action)

    async def _newer(self, tracking: str, version: int, language: str) -> list[dict[str, Any]]:
        ticket = await run_in_threadpool(self.reader.ticket, tracking, self.now())
        return newer_events(ticket.events, version, language) if ticket else []

    async def api_act(self, request: Request, viewer: Viewer) -> Response:
        """``{"done", "refused", "version"}``; 409 with the newer events, 403 with the
        planner's reason, 404, 400."""
        tracking = request.path_params["tracking"][:64]
        try:
            action, version = read_json(await request.body())
        except BadBody as exc:
            return JSONResponse({"error": str(exc)}, 400, headers=NO_STORE)
        result = await self._act(viewer, tracking, version, action)
        language = self.render.language(request)
        match result.state:
            case ActionState.UNKNOWN:
                return JSONResponse({"error": "no such ticket"}, 404, headers=NO_STORE)
            case ActionState.DENIED:
                reason = reason_words(result.reason, language) if result.reason else ""
                body = {"error": reason, "refused": said(result.refused, language)}
                return JSONResponse(body, 403, headers=NO_STORE)
            case ActionState.CONFLICT:
                conflict: dict[str, Any] = {
                    "error": f"the ticket changed since version {version}; nothing was applied",
                    "events": await self._newer(tracking, version, language),
                    "version": result.version,
                }
                return JSONResponse(conflict, 409, headers=NO_STORE)
        body = {"done": said(result.done, language), "refused": said(result.refused, language)}
        return JSONResponse({**body, "version": result.version}, headers=NO_STORE)

    async def form_act(self, request: Request, viewer: Viewer) -> Response:
        """The page's form: 303 back to the ticket with the outcome in the query, or the
        conflict page keeping the draft."""
        tracking = request.path_params["tracking"][:64]
        form = await request.form()
        lines = str(form.get("commands", "")).splitlines()
        note = str(form.get("mode", "reply")) == "note"
        text = str(form.get("text", ""))
        version_field = str(form.get("version", ""))
        try:
            if not version_field.isdigit():
                raise BadBody("version must be the ticket's version (an integer)")
            files = await self._files(form)
            action = checked(["#note", *lines] if note else lines, text, files)
        except BadBody as exc:
            return Response(str(exc), 400, headers=NO_STORE)
        version = int(version_field)
        result = await self._act(viewer, tracking, version, action)
        language = self.render.language(request)
        page = f"/staff/t/{tracking}"
        match result.state:
            case ActionState.UNKNOWN:
                return self.render.plain(request, "no_such_ticket", 404)
            case ActionState.CONFLICT:
                ticket = await run_in_threadpool(self.reader.ticket, tracking, self.now())
                events = [e for e in ticket.events if e.id > version] if ticket else []
                return self.render.page(
                    request,
                    "conflict.html",
                    viewer,
                    409,
                    tracking=tracking,
                    events=events,
                    version=result.version,
                    commands="\n".join(lines),
                    text=text,
                    mode="note" if note else "reply",
                    s=ACTION_STRINGS[language],
                )
            case ActionState.DENIED:
                reason = reason_words(result.reason, language) if result.reason else ""
                query = urlencode([("denied", reason)])
                return RedirectResponse(f"{page}?{query}", 303, headers=NO_STORE)
        outcome = [("done", line) for line in said(result.done, language)]
        outcome += [("refused", line) for line in said(result.refused, language)]
        return RedirectResponse(f"{page}?{urlencode(outcome)}", 303, headers=NO_STORE)

    async def _files(self, form: FormData) -> tuple[Attachment, ...]:
        """The uploaded files, each within ``[ingest].max_attachment_bytes``."""
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if len(uploads) > MAX_FILES:
            await form.close()
            raise BadBody(f"more than {MAX_FILES} files")
        try:
            return tuple([await self._file(upload, index) for index, upload in enumerate(uploads)])
        finally:
            await form.close()

    async def _file(self, upload: UploadFile, index: int) -> Attachment:
        data = await upload.read(self.max_attachment_bytes + 1)
        if len(data) > self.max_attachment_bytes:
            raise BadBody(f"{upload.filename} is over {self.max_attachment_bytes} bytes")
        content_type = (upload.content_type or "application/octet-stream")[:255]
        name = safe_filename(upload.filename, content_type, index)
        return Attachment(name, content_type, data, hashlib.sha256(data).hexdigest())
