"""The satisfaction pages: ``GET /t/{tracking}/rate`` confirms (a link scanner following
the mail's link records nothing), ``POST`` records through the ``Ratings`` port. Both need
the status-page key of that ticket; the post also the site's form token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ticketd.routing.csat import COMMENT_CHARS, Rateable, RatingState, parse_rating
from ticketd.routing.labels import LANGUAGES
from ticketd.web.forms import FIELD
from ticketd.web.ports import Ratings
from ticketd.web.rating_strings import RATE_STRINGS

if TYPE_CHECKING:
    from ticketd.web.app import StatusSite

MODES = {Rateable.NOT_YET: "not_yet", Rateable.CLOSED: "closed"}
STATUS_OF = {"form": 200, "done": 200, "not_yet": 409, "closed": 409, "denied": 403}


class RatingPages:
    """The two endpoints, on the status site's renderer, limiter, key check and forms."""

    def __init__(self, site: StatusSite, ratings: Ratings) -> None:
        self.site = site
        self.ratings = ratings

    def routes(self) -> list[BaseRoute]:
        """``/t/{tracking}/rate``: GET confirms, POST records."""
        return [
            Route("/t/{tracking}/rate", self.confirm, methods=["GET"]),
            Route("/t/{tracking}/rate", self.record, methods=["POST"]),
        ]

    def page(
        self,
        request: Request,
        mode: str,
        number: str = "",
        key: str = "",
        state: RatingState | None = None,
        **context: Any,
    ) -> Response:
        """The rating page in ``mode``, with the visitor's form token (and cookie), in the
        language asked for (``?lang=``), else the ticket's, else the browser's."""
        site = self.site
        nonce, new = site.forms.nonce(request)
        asked = request.query_params.get("lang")
        language = site.language(request)
        if state is not None and asked not in LANGUAGES and state.language in LANGUAGES:
            language = state.language
        query = f"k={key}&" if key else ""
        response = site.render(
            request,
            "rate.html",
            context.pop("status", STATUS_OF.get(mode, 200)),
            language,
            r=RATE_STRINGS[language],
            mode=mode,
            tracking=number,
            key=key,
            form_token=site.forms.token(nonce),
            max_comment=COMMENT_CHARS,
            state=state,
            lang_href=f"?{query}{_choice_query(context.get('chosen'))}lang="
            + ("en" if language == "ko" else "ko"),
            **context,
        )
        if new:
            site.forms.remember(response, nonce)
        return response

    def ticket(self, request: Request, key: str) -> tuple[str | None, Response | None]:
        """The canonical number of a known ticket whose key is ``key``, or the answer: the
        status page's 404 for an unknown number, 403 for a wrong key."""
        site = self.site
        number, page = site.lookup_page(request.path_params["tracking"])
        if number is None or page is None:
            return None, site.unknown(request, key)
        if not site.token_ok(number, key):
            return None, self.page(request, "denied", number)
        return number, None

    async def confirm(self, request: Request) -> Response:
        """The confirmation form, the link's choice pre-selected; records nothing."""
        blocked = self.site.limited(request)
        if blocked:
            return blocked
        key = request.query_params.get("k", "")
        number, refused = self.ticket(request, key)
        if number is None:
            assert refused is not None
            return refused
        state = self.ratings.rating(number)
        assert state is not None
        chosen = parse_rating(request.query_params.get("r"))
        return self.answer(request, number, key, state, chosen.value if chosen else None)

    async def record(self, request: Request) -> Response:
        """Record the posted rating (once per distinct rating and comment)."""
        blocked = self.site.limited(request)
        if blocked:
            return blocked
        form = await request.form()
        key = str(form.get("k", ""))[:100]
        number, refused = self.ticket(request, key)
        if number is None:
            assert refused is not None
            return refused
        if not self.site.forms.allows(request, str(form.get(FIELD, ""))):
            return self.page(request, "expired", number, key, status=403)
        rating = parse_rating(str(form.get("r", "")))
        state = self.ratings.rating(number)
        assert state is not None
        if rating is None:
            return self.answer(request, number, key, state, None, error="choose", status=400)
        comment = str(form.get("comment", ""))[: COMMENT_CHARS * 2]
        after = self.ratings.rate(number, rating, comment) or state
        if after.rateable != Rateable.OPEN or after.rating is None:
            return self.page(request, MODES.get(after.rateable, "not_yet"), number, key, after)
        return self.page(request, "done", number, key, after)

    def answer(
        self,
        request: Request,
        number: str,
        key: str,
        state: RatingState,
        chosen: str | None,
        **context: Any,
    ) -> Response:
        """The form for a ticket that takes a rating, else why it does not."""
        if state.rateable != Rateable.OPEN:
            return self.page(request, MODES[state.rateable], number, key, state)
        shown = chosen or (state.rating.value if state.rating else None)
        return self.page(request, "form", number, key, state, chosen=shown, **context)


def _choice_query(chosen: object) -> str:
    return f"r={chosen}&" if isinstance(chosen, str) else ""
