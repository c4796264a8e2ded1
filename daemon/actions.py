"""``web.staff.actions.StaffActions`` on the store: the mail planner's effects for a
workspace action, applied by the one writer in one transaction."""

from __future__ import annotations

from ticketd.daemon.wiring import Components
from ticketd.routing.actions import ActionRequest, ActionResult, ActionState, plan_action
from ticketd.routing.links import status_link
from ticketd.routing.outcomes import OutcomeCode, Reason
from ticketd.routing.workspace import StaffUser

NOT_AN_ENGINEER = Reason(OutcomeCode.NOT_AN_ENGINEER)


class StoreActions:
    """Acts as the configured engineer behind a signed-in ``StaffUser``."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def act(
        self, user: StaffUser, tracking: str, version: int, request: ActionRequest
    ) -> ActionResult:
        config = self.components.config
        engineers = config.engineers
        actor = next((e for e in engineers if e.email == user.email), None)
        if actor is None:
            return ActionResult(ActionState.DENIED, reason=NOT_AN_ENGINEER)
        prefix = config.service.tracking_prefix
        base_url, secret = config.web.base_url, config.web.secret_key
        with self.components.store.write() as writer:
            lookup = writer.lookup
            return writer.act(
                tracking,
                version,
                lambda ticket: plan_action(
                    request,
                    actor,
                    ticket,
                    engineers,
                    lookup,
                    prefix,
                    status_link=status_link(base_url, secret, ticket.tracking),
                ),
            )
