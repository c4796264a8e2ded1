"""The OpenAPI description of the public JSON routes, written out (served at
``/openapi.json``; no docstring parsing, so no YAML library is needed)."""

from __future__ import annotations

from typing import Any

_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TRACKING = {
    "name": "tracking",
    "in": "path",
    "required": True,
    "description": "The tracking number (typos, lowercase and missing dashes accepted)",
    "schema": {"type": "string", "example": "SUP-7K2M-9QXA"},
}
_KEY = {
    "name": "k",
    "in": "query",
    "required": False,
    "description": "The signed key from the customer's mail: adds the conversation",
    "schema": {"type": "string"},
}

SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "ticketd status API", "version": "1"},
    "paths": {
        "/api/tickets/{tracking}": {
            "get": {
                "summary": "A ticket's public status and timeline",
                "parameters": [_TRACKING, _KEY],
                "responses": {
                    "200": {
                        "description": "The ticket",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}
                        },
                    },
                    "404": {"description": "No such ticket"},
                    "429": {"description": "Too many lookups from this client"},
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Database reachable, mailbox state, outbox backlog",
                "responses": {
                    "200": {"description": "Healthy"},
                    "503": {"description": "The database is unreachable"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Ticket": {
                "type": "object",
                "required": [
                    "tracking",
                    "status",
                    "owner_name",
                    "created_at",
                    "updated_at",
                    "timeline",
                ],
                "properties": {
                    "tracking": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": ["open", "pending", "waiting", "resolved", "closed"],
                    },
                    "owner_name": {"type": "string", "nullable": True},
                    "created_at": _TIME,
                    "updated_at": _TIME,
                    "first_response_due": _TIME,
                    "timeline": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/TimelineEntry"},
                    },
                    "attachments": {
                        "description": "With a valid key only",
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Attachment"},
                    },
                },
            },
            "TimelineEntry": {
                "type": "object",
                "properties": {
                    "at": _TIME,
                    "kind": {"type": "string"},
                    "summary": {"type": "string"},
                    "author": {"type": "string", "enum": ["customer", "support"]},
                    "text": {
                        "type": "string",
                        "nullable": True,
                        "description": "With a valid key only",
                    },
                },
            },
            "Attachment": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "size": {"type": "integer"},
                    "at": _TIME,
                    "url": {"type": "string", "description": "Signed download link"},
                },
            },
        }
    },
}
