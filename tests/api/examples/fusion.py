"""Examples for fusion runs and the review queue: a small upload in which two records are
one company and two share only a name (a review pair)."""

from __future__ import annotations

from typing import Any

from crmledger.fusion.config import Upload
from crmledger.fusion.match import MatchSettings

CONTENT = (
    "id,company,first,last,email,phone,country\n"
    "1,Acme GmbH,,,info@acme.example,+49 30 1234567,DE\n"
    "2,ACME G.m.b.H.,,,INFO@ACME.EXAMPLE,030 1234567,DE\n"
    "3,,Carl,Brandt,carl@one.example,+49 30 7654321,DE\n"
    "4,,Carl,Brandt,brandt@two.example,+49 40 1111111,DE\n"
    "5,Bad Row GmbH,,,not-an-email,12,DE\n"
)
MAPPING = (
    "fields:\n  external_id: id\n  display_name: company\n  given_name: first\n"
    "  family_name: last\n  email: email\n  phone: phone\n  country: country\n"
)


def body(dry_run: bool = False, name: str = "shop") -> dict[str, Any]:
    return {
        "name": "API upload",
        "dry_run": dry_run,
        "region": "DE",
        "sources": [{"name": name, "kind": "csv", "content": CONTENT, "mapping": MAPPING}],
    }


def run(api: Any) -> int:
    # A low review threshold: the book's other parties take part and lower every score.
    settings = MatchSettings(accept=0.99, review=0.01)
    upload = Upload("shop", "csv", CONTENT, MAPPING)
    outcome = api.book.fusion.run_upload("example", [upload], match_settings=settings)
    return int(outcome.run_id)


def review(api: Any) -> int:
    open_pairs = api.book.fusion.review.list()
    if not open_pairs:
        run(api)
        open_pairs = api.book.fusion.review.list()
    return int(open_pairs[0].id)


BODIES: dict[str, Any] = {
    "createFusionRun": lambda api: body(dry_run=True),
    "decideFusionReview": lambda api: {"decision": "reject"},
}

PATHS: dict[str, Any] = {
    "{run_id}": run,
    "{review_id}": review,
}
