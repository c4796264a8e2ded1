"""Classification codes in the workspace, for managers (``GET /staff/codes``; agents get
403): the tree with each code's ticket count, and forms (with the session's CSRF token)
to add a code, change its labels, move it under another parent, retire it and put it in
use again. Every write goes through the ``Writer``; a refusal shows the page again, 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ticketd.routing.codes import MAX_SEGMENT, Code, CodeTree
from ticketd.routing.model import Role
from ticketd.routing.outcome_words import reason_words
from ticketd.routing.outcomes import OutcomeCode, Reason
from ticketd.web.staff.auth import StaffAuth, Viewer
from ticketd.web.staff.macros import denied
from ticketd.web.staff.render import StaffRenderer

MAX_LABEL = 120
CODE_ID = "{code:int}"


class CodeBook(Protocol):
    """The code tree, read and written (implemented on the database)."""

    def tree(self) -> CodeTree:
        """Every code, retired ones included."""

    def counts(self) -> Mapping[int, int]:
        """Tickets per code id."""

    def add(self, path: str, label_ko: str, label_en: str, actor: str) -> Reason | None:
        """Create the code (and missing ancestors); why not, or None."""

    def relabel(self, code_id: int, label_ko: str, label_en: str) -> None:
        """Change a code's Korean and English labels."""

    def move(self, code_id: int, parent_id: int | None) -> Reason | None:
        """Move a code under another (None: the root); why not, or None."""

    def retire(self, code_id: int, retired: bool) -> Reason | None:
        """Retire a code and its descendants, or put it in use again; why not, or None."""


def _text(value: object, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


class CodePages:
    """The codes page and its forms, on the workspace's sign-in and renderer."""

    def __init__(self, auth: StaffAuth, render: StaffRenderer, book: CodeBook) -> None:
        self.auth = auth
        self.render = render
        self.book = book

    def routes(self) -> list[BaseRoute]:
        page, form = self.auth.page, self.auth.form
        return [
            Route("/codes", page(self.listing), methods=["GET"]),
            Route("/codes/add", form(self.add), methods=["POST"]),
            Route(f"/codes/{CODE_ID}/labels", form(self.relabel), methods=["POST"]),
            Route(f"/codes/{CODE_ID}/move", form(self.move), methods=["POST"]),
            Route(f"/codes/{CODE_ID}/retire", form(self.retire), methods=["POST"]),
            Route(f"/codes/{CODE_ID}/restore", form(self.restore), methods=["POST"]),
        ]

    def refused(self, request: Request, viewer: Viewer) -> Response | None:
        """403 for anyone but a manager."""
        if viewer.user.role == Role.MANAGER:
            return None
        return denied(self.render, request, viewer, "codes_managers_only")

    async def listing(
        self, request: Request, viewer: Viewer, problem: Reason | None = None
    ) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        tree = await run_in_threadpool(self.book.tree)
        counts = await run_in_threadpool(self.book.counts)
        return self.render.page(
            request,
            "codes.html",
            viewer,
            400 if problem else 200,
            section="codes",
            codes=tree.codes,
            parents=[c for c in tree.live() if c.depth < 3],
            counts=counts,
            problem=reason_words(problem, self.render.language(request)) if problem else None,
            max_segment=MAX_SEGMENT,
        )

    async def done(self, request: Request, viewer: Viewer, problem: Reason | None) -> Response:
        """Back to the page, or the page again with the problem."""
        if problem:
            return await self.listing(request, viewer, problem)
        return RedirectResponse("/staff/codes", 303)

    async def add(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        form = await request.form()
        path = str(form.get("path", ""))[: 4 * MAX_SEGMENT]
        labels = (_text(form.get("label_ko"), MAX_LABEL), _text(form.get("label_en"), MAX_LABEL))
        problem = await run_in_threadpool(self.book.add, path, *labels, viewer.user.email)
        return await self.done(request, viewer, problem)

    async def relabel(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        form = await request.form()
        code = await self.code(request)
        if code is None:
            said = reason_words(Reason.of(OutcomeCode.CODE_GONE), self.render.language(request))
            return Response(said, 404)
        label_ko = _text(form.get("label_ko"), MAX_LABEL) or code.name
        label_en = _text(form.get("label_en"), MAX_LABEL) or code.name
        await run_in_threadpool(self.book.relabel, code.id, label_ko, label_en)
        return await self.done(request, viewer, None)

    async def move(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        parent = str((await request.form()).get("parent", ""))
        parent_id = int(parent) if parent.isdigit() and len(parent) < 18 else None
        code_id = request.path_params["code"]
        problem = await run_in_threadpool(self.book.move, code_id, parent_id)
        return await self.done(request, viewer, problem)

    async def retire(self, request: Request, viewer: Viewer) -> Response:
        return await self._retired(request, viewer, True)

    async def restore(self, request: Request, viewer: Viewer) -> Response:
        return await self._retired(request, viewer, False)

    async def _retired(self, request: Request, viewer: Viewer, retired: bool) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        code_id = request.path_params["code"]
        problem = await run_in_threadpool(self.book.retire, code_id, retired)
        return await self.done(request, viewer, problem)

    async def code(self, request: Request) -> Code | None:
        tree = await run_in_threadpool(self.book.tree)
        return tree.by_id(request.path_params["code"])
