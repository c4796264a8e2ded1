"""Saved replies in the workspace: everyone sees the list (``GET /staff/macros``);
managers create, edit and retire them (agents get 403 with the reason). Every form
carries the session's CSRF token (``StaffAuth.form``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ticketd.routing.macros import (
    PLACEHOLDERS,
    Macro,
    StoredMacro,
    check_macro,
    macro_key,
    problem,
)
from ticketd.routing.model import Role
from ticketd.routing.outcome_words import problem_words
from ticketd.routing.outcomes import Outcome, OutcomeCode
from ticketd.web.staff.auth import StaffAuth, Viewer
from ticketd.web.staff.i18n import STAFF_STRINGS
from ticketd.web.staff.render import StaffRenderer

FIELDS = ("name", "text_ko", "text_en", "commands")


class MacroBook(Protocol):
    """Saved replies, read and written (implemented on the database)."""

    def macros(self) -> Sequence[Macro]:
        """The saved replies in use: name, both texts and commands (the ticket page's)."""

    def every(self) -> Sequence[StoredMacro]:
        """Every saved reply, retired ones included."""

    def save(self, macro: Macro, actor: str) -> None:
        """Create or replace the saved reply of that name."""

    def retire(self, name: str, actor: str) -> bool:
        """False when no saved reply in use has that name."""


def denied(render: StaffRenderer, request: Request, viewer: Viewer, reason: str) -> Response:
    """403 with the reason (a key of ``STAFF_STRINGS``), on a page of the workspace in the
    viewer's language."""
    said = STAFF_STRINGS[render.language(request)][reason]
    return render.page(request, "denied.html", viewer, 403, section="", reason=said)


def _macro(form: FormData, name: str | None = None) -> Macro:
    values = {key: str(form.get(key, "")).replace("\r\n", "\n") for key in FIELDS}
    return Macro(
        (name or values["name"]).strip(), values["text_ko"], values["text_en"], values["commands"]
    )


class MacroPages:
    """The saved replies' pages, on the workspace's sign-in and renderer."""

    def __init__(self, auth: StaffAuth, render: StaffRenderer, book: MacroBook) -> None:
        self.auth = auth
        self.render = render
        self.book = book

    def routes(self) -> list[BaseRoute]:
        page, form = self.auth.page, self.auth.form
        return [
            Route("/macros", page(self.listing), methods=["GET"]),
            Route("/macros/new", page(self.new_form), methods=["GET"]),
            Route("/macros/new", form(self.create), methods=["POST"]),
            Route("/macros/{name}/edit", page(self.edit_form), methods=["GET"]),
            Route("/macros/{name}/edit", form(self.update), methods=["POST"]),
            Route("/macros/{name}/retire", form(self.retire), methods=["POST"]),
        ]

    def refused(self, request: Request, viewer: Viewer) -> Response | None:
        """403 for anyone but a manager."""
        if viewer.user.role == Role.MANAGER:
            return None
        return denied(self.render, request, viewer, "macros_managers_only")

    def form_page(
        self,
        request: Request,
        viewer: Viewer,
        macro: Macro,
        *,
        editing: bool,
        problems: Sequence[Outcome] = (),
    ) -> Response:
        language = self.render.language(request)
        return self.render.page(
            request,
            "macro_form.html",
            viewer,
            400 if problems else 200,
            section="macros",
            macro=macro,
            editing=editing,
            problems=[problem_words(p, language) for p in problems],
            placeholders=PLACEHOLDERS,
        )

    async def listing(self, request: Request, viewer: Viewer) -> Response:
        saved = await run_in_threadpool(self.book.every)
        manager = viewer.user.role == Role.MANAGER
        shown = [s for s in saved if manager or not s.retired]
        return self.render.page(
            request, "macros.html", viewer, section="macros", saved=shown, manager=manager
        )

    async def new_form(self, request: Request, viewer: Viewer) -> Response:
        return self.refused(request, viewer) or self.form_page(
            request, viewer, Macro("", "", ""), editing=False
        )

    async def create(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        macro = _macro(await request.form())
        problems = check_macro(macro.name, macro.text_ko, macro.text_en, macro.commands)
        in_use = await run_in_threadpool(self.book.macros)
        if any(macro_key(m.name) == macro_key(macro.name) for m in in_use):
            problems.append(problem(OutcomeCode.MACRO_EXISTS, name=macro.name))
        return await self.saved(request, viewer, macro, problems, editing=False)

    async def edit_form(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        found = await self.find(request.path_params["name"])
        if found is None:
            return self.render.plain(request, "no_such_macro", 404)
        return self.form_page(request, viewer, found, editing=True)

    async def update(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        found = await self.find(request.path_params["name"])
        if found is None:
            return self.render.plain(request, "no_such_macro", 404)
        macro = _macro(await request.form(), found.name)
        problems = check_macro(macro.name, macro.text_ko, macro.text_en, macro.commands)
        return await self.saved(request, viewer, macro, problems, editing=True)

    async def retire(self, request: Request, viewer: Viewer) -> Response:
        refused = self.refused(request, viewer)
        if refused:
            return refused
        name = request.path_params["name"][:100]
        if not await run_in_threadpool(self.book.retire, name, viewer.user.email):
            return self.render.plain(request, "no_such_macro", 404)
        return RedirectResponse("/staff/macros", 303)

    async def find(self, name: str) -> Macro | None:
        """Any saved reply (a retired one too: saving it puts it in use again)."""
        saved = await run_in_threadpool(self.book.every)
        return next((s.macro for s in saved if macro_key(s.macro.name) == macro_key(name)), None)

    async def saved(
        self,
        request: Request,
        viewer: Viewer,
        macro: Macro,
        problems: Sequence[Outcome],
        *,
        editing: bool,
    ) -> Response:
        """Save and go back to the list, or show the form again with the problems."""
        if problems:
            return self.form_page(request, viewer, macro, editing=editing, problems=problems)
        await run_in_threadpool(self.book.save, macro, viewer.user.email)
        return RedirectResponse("/staff/macros", 303)
